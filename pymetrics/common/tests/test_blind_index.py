"""The keyed blind index of e-mail addresses: its normalisation, its values and its keys.

(Finding candidates by it: ``assessments/tests/test_email_index.py``.)
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pymetrics.common.crypto import EMAIL_INDEX, BlindIndex, normalise_email

KEY_OLD = base64.urlsafe_b64encode(b"key-a:blind-index-test-012345678")
KEY_NEW = base64.urlsafe_b64encode(b"key-b:blind-index-test-012345678")
#: EMAIL_INDEX of "cara@example.org" in organisation 7, pinned: a change of the
#: label, the normalisation or the message format changes every stored index and
#: needs a migration that recomputes them
CARA_IN_7_OLD = "e6a0608ba9bc7a36e117c93a2f3bbf7b1872ca28ae84b13c2552b737214b8cb5"
CARA_IN_7_NEW = "f03b7348d1c6962bcb25d67ccb3e3d26528eec00813957ef91629197aec8ed44"


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        (" Cara@Example.ORG \n", "cara@example.org"),
        (
            "\uff43\uff41\uff52\uff41@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.org",
            "cara@example.org",
        ),  # fullwidth forms (NFKC)
        ("STRASSE@beispiel.de", "strasse@beispiel.de"),
        ("straße@beispiel.de", "strasse@beispiel.de"),  # case-folded, not lower-cased
        ("ﬁnn@example.org", "finn@example.org"),  # the "fi" ligature
        ("Zoë@example.org", "zoë@example.org"),
        ("Zoe\u0308@example.org", "zoë@example.org"),  # a combining diaeresis, composed
        ("   ", ""),
    ],
    ids=["case-and-space", "fullwidth", "upper-ss", "sharp-s", "ligature", "nfc", "nfd", "blank"],
)
def test_an_email_is_normalised_trimmed_nfkc_and_case_folded(typed, normalised):
    assert normalise_email(typed) == normalised


def test_the_index_is_the_hmac_of_scope_and_address_under_a_key_derived_by_hkdf():
    # the definition, computed independently of the module
    index_key = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"pymetrics blind index v1: candidate e-mail",
    ).derive(base64.urlsafe_b64decode(KEY_OLD))
    expected = hmac.new(index_key, b"7\x1fcara@example.org", hashlib.sha256).hexdigest()

    assert expected == CARA_IN_7_OLD
    assert EMAIL_INDEX.under_key("cara@example.org", scope=7, key=KEY_OLD) == CARA_IN_7_OLD
    assert EMAIL_INDEX.under_key("cara@example.org", scope=7, key=KEY_NEW) == CARA_IN_7_NEW


def test_the_index_is_stable_across_ways_of_typing_the_address():
    typed = [" CARA@example.org", "Cara@Example.Org", "\uff23\uff41\uff52\uff41@example.org"]

    assert {EMAIL_INDEX.under_key(email, scope=7, key=KEY_OLD) for email in typed} == {
        CARA_IN_7_OLD
    }


def test_the_index_differs_per_key_per_organisation_and_per_label():
    base = EMAIL_INDEX.under_key("cara@example.org", scope=7, key=KEY_OLD)
    other_label = BlindIndex(label="another index", normalise=normalise_email)

    assert EMAIL_INDEX.under_key("cara@example.org", scope=7, key=KEY_NEW) != base
    assert EMAIL_INDEX.under_key("cara@example.org", scope=8, key=KEY_OLD) != base
    assert other_label.under_key("cara@example.org", scope=7, key=KEY_OLD) != base
    assert EMAIL_INDEX.under_key("carb@example.org", scope=7, key=KEY_OLD) != base


def test_an_empty_address_has_no_index(settings):
    settings.PYMETRICS_ENCRYPTION_KEYS = (KEY_NEW, KEY_OLD)

    assert EMAIL_INDEX.under_key("  ", scope=7, key=KEY_OLD) == ""
    assert EMAIL_INDEX.every_key("", scope=7) == []


def test_a_lookup_computes_the_index_under_every_configured_key_newest_first(settings):
    settings.PYMETRICS_ENCRYPTION_KEYS = (KEY_NEW, KEY_OLD)

    assert EMAIL_INDEX.current("Cara@example.org", scope=7) == CARA_IN_7_NEW
    assert EMAIL_INDEX.every_key("Cara@example.org", scope=7) == [CARA_IN_7_NEW, CARA_IN_7_OLD]
