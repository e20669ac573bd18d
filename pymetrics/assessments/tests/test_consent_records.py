"""Consent records: one per purpose, written by the consent page and the API start,
naming the text shown (version, SHA-256 of its words, language); withdrawal."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from pymetrics.assessments.models import Attempt, AttemptState, Candidate, ConsentRecord
from pymetrics.assessments.services import (
    _consent_page_sha256,
    attempt_consent,
    attempt_start,
    consent_page_text,
    consent_withdraw,
)

CONSENT_FORM = {"consent": "on", "accommodation_colour_safe": "on"}


@pytest.fixture(autouse=True)
def _fresh_text_hashes() -> Iterator[None]:
    """The hash of each language's text is remembered per process: forget it around tests
    that change the text."""
    _consent_page_sha256.cache_clear()
    yield
    _consent_page_sha256.cache_clear()


def _records(candidate_id: int) -> list[tuple[str, str, str, str, str]]:
    return [
        (r.purpose, r.channel, r.text_version, r.text_sha256, r.language)
        for r in ConsentRecord.objects.filter(candidate_id=candidate_id).order_by("purpose")
    ]


def test_the_consent_page_records_both_purposes_with_the_text_shown(client, invitation) -> None:
    url = reverse("play:consent", args=[invitation.invite_token])

    response = client.post(url, CONSENT_FORM)
    client.post(url, CONSENT_FORM)  # sent twice (a double click): nothing new
    client.get(reverse("play:lobby", args=[invitation.invite_token]))  # starts the attempt

    assert response.status_code == 302
    english = consent_page_text("en")
    assert len(english.sha256) == 64
    assert _records(invitation.candidate.pk) == [
        ("participation", "invite_pages", "1", english.sha256, "en"),
        ("results", "invite_pages", "1", english.sha256, "en"),
    ]
    candidate = Candidate.objects.get(pk=invitation.candidate.pk)
    records = ConsentRecord.objects.filter(candidate=candidate)
    assert {r.given_at for r in records} == {candidate.consent_at}
    assert {r.attempt_id for r in records} == {invitation.attempt.pk}
    assert {r.withdrawn_at for r in records} == {None}


def test_the_api_start_records_consent_shown_by_the_client(client, invitation) -> None:
    response = client.post(reverse("api:play-start", args=[invitation.invite_token]))
    client.post(reverse("api:play-start", args=[invitation.invite_token]))  # resumed

    assert response.status_code == 200
    assert _records(invitation.candidate.pk) == [
        ("participation", "api", "api-client", "", "en"),
        ("results", "api", "api-client", "", "en"),
    ]


def test_consent_already_given_is_not_recorded_again_by_the_start(invitation) -> None:
    attempt_consent(attempt=invitation.attempt, accommodations={})

    attempt_start(attempt=invitation.attempt)

    assert [channel for _, channel, *_ in _records(invitation.candidate.pk)] == [
        "invite_pages",
        "invite_pages",
    ]


def test_the_hash_is_of_the_words_shown_and_changes_with_them(settings, tmp_path) -> None:
    original = consent_page_text("en")
    # the page's words, with placeholders for the names (what one text version means)
    page = tmp_path / "play" / "consent.html"
    page.parent.mkdir()
    page.write_text(
        '{% extends "play/base_candidate.html" %}{% block content %}'
        "<h1>Before you start</h1><p>Data used by {{ organization_name }} only.</p>"
        "{% endblock %}"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    _consent_page_sha256.cache_clear()

    changed = consent_page_text("en")

    expected = hashlib.sha256(b"Before you start Data used by {organization} only.").hexdigest()
    assert changed.sha256 == expected
    assert changed.sha256 != original.sha256
    assert changed.version == original.version == "1"


GERMAN = """
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "Before you start"
msgstr "Bevor Sie beginnen"
"""


def test_a_candidate_reading_another_language_consents_to_that_text(
    client, invitation, settings, tmp_path
) -> None:
    if shutil.which("msgfmt") is None:
        pytest.skip("needs msgfmt (apt-get install gettext)")
    messages = tmp_path / "de" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    (messages / "django.po").write_text(GERMAN, encoding="utf-8")
    subprocess.run(
        ["msgfmt", "-o", str(messages / "django.mo"), str(messages / "django.po")], check=True
    )
    settings.LOCALE_PATHS = [Path(tmp_path), *settings.LOCALE_PATHS]
    settings.LANGUAGES = [("en", "English"), ("de", "Deutsch")]

    client.post(
        reverse("play:consent", args=[invitation.invite_token]),
        CONSENT_FORM,
        HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9",
    )

    german = consent_page_text("de")
    assert german.sha256 != consent_page_text("en").sha256
    assert {(r[3], r[4]) for r in _records(invitation.candidate.pk)} == {(german.sha256, "de")}


def test_withdrawing_marks_the_records_and_stops_unfinished_invitations(
    client, invitation, make_invitation, assessment: Any
) -> None:
    attempt_consent(attempt=invitation.attempt, accommodations={})
    attempt_start(attempt=invitation.attempt)
    # a second, finished attempt of the same candidate keeps its state
    finished = Attempt.objects.create(
        candidate=invitation.candidate,
        assessment=type(assessment).objects.create(
            organization=assessment.organization, name="Earlier", games=["balloons"]
        ),
        state=AttemptState.COMPLETED,
    )

    withdrawn = consent_withdraw(candidate=invitation.candidate)
    again = consent_withdraw(candidate=invitation.candidate)

    assert (withdrawn, again) == (2, 0)
    assert ConsentRecord.objects.filter(withdrawn_at__isnull=True).count() == 0
    assert Attempt.objects.get(pk=invitation.attempt.pk).state == AttemptState.WITHDRAWN
    assert Attempt.objects.get(pk=finished.pk).state == AttemptState.COMPLETED
    page = client.get(reverse("play:lobby", args=[invitation.invite_token]))
    assert page.status_code == 410
