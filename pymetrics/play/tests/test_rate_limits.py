"""Abuse limits on the candidate side: invite links and event ingestion over HTTP.

Also the invite token's own guarantees: long, random, stored hashed, expiring,
and good for one attempt only.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from pymetrics.assessments.models import Attempt, AttemptState, GameSession, GameSessionState
from pymetrics.assessments.selectors import attempt_by_invite_token
from pymetrics.common.ratelimit import Rate
from pymetrics.conftest import PlayClient

UNKNOWN = "x" * 43


@pytest.fixture
def limits(settings) -> dict[str, Rate]:
    """Every limit generous except the ones a test lowers."""
    settings.PYMETRICS_RATE_LIMITS = {
        name: Rate(10_000, 60)
        for name in (
            "invite_ip",
            "invite_miss_ip",
            "events_session",
            "events_ip",
            "socket_open_session",
            "socket_open_ip",
        )
    }
    settings.PYMETRICS_RATE_LIMITS_ENABLED = True
    return settings.PYMETRICS_RATE_LIMITS


def _error(response: Any) -> dict[str, Any]:
    body = response.json()
    assert list(body) == ["error"]
    return body["error"]


# --- invite links ---------------------------------------------------------------------------


def test_the_invite_pages_answer_429_with_a_page_past_the_per_address_limit(limits, invitation):
    limits["invite_ip"] = Rate(3, 60)
    client = Client(REMOTE_ADDR="203.0.113.7")
    url = reverse("play:invite", args=[invitation.invite_token])

    statuses = [client.get(url).status_code for _ in range(3)]
    refused = client.get(url)

    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.templates[0].name == "play/unavailable.html"
    assert "Too many requests" in refused.content.decode()
    # another address is served
    assert Client(REMOTE_ADDR="203.0.113.8").get(url).status_code == 200


def test_unknown_tokens_are_counted_strictly_then_refused_even_for_a_real_link(limits, invitation):
    limits["invite_miss_ip"] = Rate(3, 600)
    guesser = Client(REMOTE_ADDR="198.51.100.4")

    misses = [guesser.get(reverse("play:invite", args=[f"guess{i}"])).status_code for i in range(3)]
    refused = guesser.get(reverse("play:invite", args=[invitation.invite_token]))

    assert misses == [404, 404, 404]
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 600
    # the candidate on another connection is not affected
    other = Client(REMOTE_ADDR="198.51.100.5")
    assert other.get(reverse("play:invite", args=[invitation.invite_token])).status_code == 200


def test_the_start_api_answers_429_in_the_error_shape_with_retry_after(limits, invitation):
    limits["invite_miss_ip"] = Rate(2, 600)
    client = APIClient(REMOTE_ADDR="198.51.100.9")

    first = [client.post(reverse("api:play-start", args=[UNKNOWN])) for _ in range(2)]
    refused = client.post(reverse("api:play-start", args=[invitation.invite_token]))

    assert [r.status_code for r in first] == [404, 404]
    assert _error(first[0])["code"] == "invite_not_found"
    assert refused.status_code == 429
    assert _error(refused) == {
        "code": "rate_limited",
        "message": f"too many requests; try again in {refused['Retry-After']} seconds",
        "details": {},
    }
    assert 1 <= int(refused["Retry-After"]) <= 600
    # nothing was started for the real invitation
    assert Attempt.objects.get(pk=invitation.attempt.pk).state == AttemptState.INVITED


def test_the_start_api_counts_every_call_per_address(limits, invitation):
    limits["invite_ip"] = Rate(2, 60)
    client = APIClient(REMOTE_ADDR="192.0.2.10")
    url = reverse("api:play-start", args=[invitation.invite_token])

    statuses = [client.post(url).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


# --- events ---------------------------------------------------------------------------------


def test_event_batches_are_limited_per_game_session(limits, play: PlayClient, make_balloon_events):
    limits["events_session"] = Rate(2, 60)
    events = make_balloon_events([(2, False)])

    answers = [play.send(events[:2]), play.send(events[2:]), play.send(events)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert _error(answers[2])["code"] == "rate_limited"
    assert 1 <= int(answers[2]["Retry-After"]) <= 60
    # the batches before the limit were stored
    assert GameSession.objects.get(pk=play.game_session_id).acked_seq == len(events)


def test_event_batches_are_limited_per_address(limits, play: PlayClient, make_balloon_events):
    limits["events_ip"] = Rate(1, 60)
    events = make_balloon_events([(1, False)])
    play.client.defaults["REMOTE_ADDR"] = "192.0.2.77"

    first, second = play.send(events), play.send(events)

    assert (first.status_code, second.status_code) == (200, 429)


def test_the_default_limits_let_a_browser_and_the_bench_through(settings):
    """A browser posts at most every 250 ms with one request in flight (event-client.js);
    the bench posts ~2 batches of 500 events per session, 600 sessions, from one address."""
    rates = {name: Rate.parse(text) for name, text in settings.PYMETRICS_RATE_LIMITS.items()}

    browser_per_minute = 60 / 0.25
    assert rates["events_session"].limit / (rates["events_session"].period_s / 60) >= (
        2 * browser_per_minute
    )
    bench_requests = 600 * 2 + 8  # the full run's batches and its warm-up
    assert rates["events_ip"].limit >= 2 * bench_requests
    # the socket scenario opens up to 500 sockets at once from one address
    assert rates["socket_open_ip"].limit >= 2 * 500
    assert settings.PYMETRICS_SOCKETS_PER_IP >= 2 * 500


# --- invite tokens --------------------------------------------------------------------------


def test_invite_tokens_are_long_random_and_stored_only_as_sha256(make_invitation):
    invitations = [make_invitation(external_id=f"cand-{i}") for i in range(5)]

    tokens = [i.invite_token for i in invitations]
    assert len(set(tokens)) == 5
    for invitation in invitations:
        raw = base64.urlsafe_b64decode(
            invitation.invite_token + "=" * (-len(invitation.invite_token) % 4)
        )
        assert len(raw) >= 32
        stored = Attempt.objects.get(pk=invitation.attempt.pk)
        assert (
            stored.invite_token_hash == hashlib.sha256(invitation.invite_token.encode()).hexdigest()
        )
        # the plaintext is in no column of the attempt
        assert invitation.invite_token not in str(
            Attempt.objects.filter(pk=stored.pk).values().get()
        )


def test_invite_tokens_expire_after_the_configured_days(settings, make_invitation):
    settings.PYMETRICS_INVITE_TTL_DAYS = 3
    before = timezone.now()

    invitation = make_invitation(external_id="cand-ttl")

    expires = Attempt.objects.get(pk=invitation.attempt.pk).invite_expires_at
    assert expires is not None
    assert timedelta(days=3) <= expires - before < timedelta(days=3, seconds=5)


def test_an_expired_invite_cannot_start(limits, invitation):
    Attempt.objects.filter(pk=invitation.attempt.pk).update(
        invite_expires_at=timezone.now() - timedelta(seconds=1)
    )

    api = APIClient().post(reverse("api:play-start", args=[invitation.invite_token]))
    page = Client().get(reverse("play:lobby", args=[invitation.invite_token]))

    assert api.status_code == 410
    assert _error(api)["code"] == "invite_expired"
    assert page.status_code == 410
    assert not GameSession.objects.filter(attempt=invitation.attempt).exists()


def test_a_withdrawn_invite_cannot_start(limits, invitation):
    Attempt.objects.filter(pk=invitation.attempt.pk).update(state=AttemptState.WITHDRAWN)

    api = APIClient().post(reverse("api:play-start", args=[invitation.invite_token]))

    assert api.status_code == 410
    assert _error(api)["code"] == "invite_withdrawn"
    assert not GameSession.objects.filter(attempt=invitation.attempt).exists()


def test_a_completed_attempt_is_shown_never_started_again(limits, invitation, play: PlayClient):
    # given an attempt whose one game is done, in an assessment that gained a game since
    GameSession.objects.filter(pk=play.game_session_id).update(state=GameSessionState.SCORED)
    Attempt.objects.filter(pk=invitation.attempt.pk).update(state=AttemptState.COMPLETED)
    assessment = invitation.attempt.assessment
    assessment.games = [*assessment.games, "digits"]
    assessment.save(update_fields=["games"])

    # when the link is used again, through the API and the pages
    api = APIClient().post(reverse("api:play-start", args=[invitation.invite_token]))
    lobby = Client().get(reverse("play:lobby", args=[invitation.invite_token]))
    game = Client().get(reverse("play:game", args=[invitation.invite_token, play.game_session_id]))

    # then the finished game is shown, and nothing new can be played with this link
    assert api.status_code == 200
    assert api.json()["games"] == [
        {"game": "balloons", "game_session_id": play.game_session_id, "status": "scored"}
    ]
    assert lobby.status_code == 200
    assert lobby.context["all_done"] is True
    assert game.status_code == 302
    assert GameSession.objects.filter(attempt=invitation.attempt).count() == 1
    assert Attempt.objects.get(pk=invitation.attempt.pk).state == AttemptState.COMPLETED


def test_one_token_opens_one_attempt_only(limits, make_invitation):
    first, second = make_invitation(external_id="a"), make_invitation(external_id="b")

    assert attempt_by_invite_token(invite_token=first.invite_token).pk == first.attempt.pk
    assert attempt_by_invite_token(invite_token=second.invite_token).pk == second.attempt.pk
    assert first.attempt.pk != second.attempt.pk
