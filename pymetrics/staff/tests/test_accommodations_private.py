"""Accommodations are the candidate's private choice: recruiters never see them.

Extended time, reduced motion and the colour-safe palette change how a game looks
and how long it waits, not what is scored; they must not appear on any staff page,
in the staff API or in an export, where they could become a factor in a decision.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from pymetrics.assessments.models import Attempt
from pymetrics.assessments.services import ACCOMMODATION_KEYS, attempt_consent

WORDS = ("accommodation", *ACCOMMODATION_KEYS, "extended time", "reduced motion", "colour-safe")


@pytest.fixture
def accommodated_and_scored(
    invitation, play, make_balloon_events, django_capture_on_commit_callbacks
):
    attempt = Attempt.objects.get(pk=invitation.attempt.pk)
    attempt_consent(attempt=attempt, accommodations=dict.fromkeys(ACCOMMODATION_KEYS, True))
    assert play.send(make_balloon_events(((3, False), (2, True)))).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert play.client.post(play.complete_url).status_code == 202
    attempt.refresh_from_db()
    assert attempt.accommodations == dict.fromkeys(ACCOMMODATION_KEYS, True)
    return invitation


def _assert_private(text: str) -> None:
    lowered = text.lower()
    assert [word for word in WORDS if word.lower() in lowered] == []


def test_no_staff_page_api_or_export_mentions_them(
    accommodated_and_scored, staff_client, client, recruiter, assessment, capsys
):
    candidate_id = accommodated_and_scored.candidate.pk
    # the staff API
    for url in (
        reverse("api:candidate-detail", args=[candidate_id]),
        reverse("api:assessment-detail", args=[assessment.pk]),
        reverse("api:assessments"),
    ):
        response = staff_client.get(url)
        assert response.status_code == 200
        _assert_private(response.content.decode())
    # the staff pages, on every tab
    client.force_login(recruiter)
    for query in ("", "?game=balloons", "?game=traits"):
        page = client.get(reverse("staff:assessment-detail", args=[assessment.pk]) + query)
        assert page.status_code == 200
        assert "Cara Candidate" in page.content.decode()
        _assert_private(page.content.decode())
    # the exports
    call_command("export_metrics", "--org", "acme", "--game", "balloons")
    exported = capsys.readouterr().out
    assert "cand-001,balloons,adjusted_pumps,3" in exported
    _assert_private(exported)
