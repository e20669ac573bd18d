"""Encryption at rest for personal data (candidate names and e-mail addresses).

Keys come from ``PYMETRICS_ENCRYPTION_KEYS`` (newest first). Values are encrypted
with the newest key and decrypted with whichever key made them, so keys can be
rotated without downtime (MultiFernet); ``manage.py rotate_keys`` re-encrypts what
older keys made.

Encrypted columns cannot be searched, so a column that must be found by its value
(a candidate's e-mail) has a keyed blind index beside it: an HMAC-SHA256 of the
normalised value under a key derived (HKDF) from each encryption key, so there is
no other secret to configure. It answers equality only, and rows with equal values
have equal indexes (see docs/security.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.apps import apps
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[bytes, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


@lru_cache(maxsize=4)
def _newest_fernet(key: bytes) -> Fernet:
    return Fernet(key)


def encryption_keys() -> tuple[bytes, ...]:
    """The configured Fernet keys, newest first (read on each call: tests change them)."""
    return tuple(settings.PYMETRICS_ENCRYPTION_KEYS)


def fernet() -> MultiFernet:
    return _fernet(encryption_keys())


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode()
    except InvalidToken as error:
        raise ValueError(
            "cannot decrypt a stored value: none of PYMETRICS_ENCRYPTION_KEYS made it"
        ) from error


def decrypt_with_newest_key(token: str) -> str | None:
    """The plaintext if the newest key made ``token``, else None.

    Fernet tokens do not name their key: trying the newest key alone is how a key
    rotation tells a value already re-encrypted from one it still has to do.
    """
    try:
        return _newest_fernet(encryption_keys()[0]).decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        return None


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token; reads give the plaintext back.

    Encrypted values cannot be filtered or sorted in SQL: look rows up by another
    column (an id, or a keyed blind index) and decrypt after loading. Every field of
    this class, in any model, is re-encrypted by ``manage.py rotate_keys``.
    """

    description = "Text encrypted at rest with the platform's encryption keys"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))


def encrypted_fields() -> list[tuple[type[models.Model], list[str]]]:
    """Every concrete model with encrypted columns, and those columns' attribute names.

    Found in the model registry, so a field added later is included without a list
    to keep up to date. Sorted by model label, for a stable order of work and output.
    """
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        names = [
            field.attname
            for field in model._meta.concrete_fields
            if isinstance(field, EncryptedTextField)
        ]
        if names:
            found.append((model, names))
    return sorted(found, key=lambda item: item[0]._meta.label)


# --- keyed blind indexes -----------------------------------------------------------------


def normalise_email(email: str) -> str:
    """An e-mail address as its blind index sees it: trimmed, NFKC, case-folded.

    Case-folded although the part before the ``@`` may be case-sensitive by the
    letter of RFC 5321: no mail system in use treats ``Cara@`` and ``cara@`` as two
    people, and staff type addresses the way they remember them. NFKC (applied
    again after case-folding, which can leave non-normalised text) makes fullwidth,
    ligature and other compatibility forms of a character equal to the plain one,
    so an address pasted from a document with such forms finds the same person.
    Two different mailboxes are never made equal by this in practice; at worst a
    lookup lists one person too many, and the page shows each match's address.
    """
    folded = unicodedata.normalize("NFKC", email.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)


@lru_cache(maxsize=32)
def _index_key(fernet_key: bytes, label: bytes) -> bytes:
    """The HMAC key of one blind index under one encryption key.

    HKDF-SHA256 of the Fernet key's 32 bytes with the index's label as ``info``:
    each index (and each encryption key) gets its own key, and knowing an index
    key tells nothing about the encryption key it came from.
    """
    material = base64.urlsafe_b64decode(fernet_key)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(material)


@dataclass(frozen=True)
class BlindIndex:
    """How one kind of value is indexed: its HKDF label and its normalisation.

    The indexed message is ``<scope>`` + U+001F + the normalised value: the scope
    (an organisation's id) makes the same value in two organisations two unrelated
    indexes, so the table does not tell who applied to more than one of them.
    """

    label: str
    normalise: Callable[[str], str]

    def under_key(self, value: str, *, scope: object, key: bytes) -> str:
        """The index of ``value`` (hex HMAC-SHA256) under the Fernet key ``key``; "" for none."""
        normalised = self.normalise(value)
        if not normalised:
            return ""
        message = f"{scope}\x1f{normalised}".encode()
        return hmac.new(_index_key(key, self.label.encode()), message, hashlib.sha256).hexdigest()

    def current(self, value: str, *, scope: object) -> str:
        """The index to store: under the newest key."""
        return self.under_key(value, scope=scope, key=encryption_keys()[0])

    def every_key(self, value: str, *, scope: object) -> list[str]:
        """The index under each configured key, newest first: what a lookup matches.

        During a key rotation a row may still hold its index under an older key.
        Empty when the value normalises to nothing.
        """
        indexes = [self.under_key(value, scope=scope, key=key) for key in encryption_keys()]
        return [index for index in dict.fromkeys(indexes) if index]


#: The index of candidates' e-mail addresses (``Candidate.email_index``).
EMAIL_INDEX = BlindIndex(
    label="pymetrics blind index v1: candidate e-mail", normalise=normalise_email
)


@dataclass(frozen=True)
class BlindIndexedField:
    """A model's encrypted field and the column holding its blind index.

    Models list theirs in a ``blind_indexed_fields`` class attribute, so that key
    rotation recomputes each index with the field it re-encrypts.
    """

    field: str
    index_field: str
    index: BlindIndex
    #: the attribute whose value scopes the index (an organisation's id)
    scope_field: str


def blind_indexed_fields(model: type[models.Model]) -> tuple[BlindIndexedField, ...]:
    return tuple(getattr(model, "blind_indexed_fields", ()))
