"""Invite to metrics over real HTTP, a real Celery worker and PostgreSQL + Redis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command

from pymetrics.accounts.services import api_key_create, organization_create, user_create
from pymetrics.games.registry import get_game
from tests.integration.conftest import Services, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(services: Services):
    import httpx

    organization = organization_create(name="Integration Org", slug="integration")
    user = user_create(email="ops@integration.example", password=None, organization=organization)
    key = api_key_create(user=user, scopes=["read", "write"]).plaintext
    with httpx.Client(
        base_url=services.base_url, headers={"Authorization": f"Token {key}"}, timeout=30
    ) as client:
        yield client


def test_readyz_reports_every_real_dependency_ready(services: Services) -> None:
    import httpx

    response = httpx.get(f"{services.base_url}/readyz", timeout=10)

    assert response.status_code == 200
    body = response.json()
    assert body["failed"] == []
    assert set(body["checks"]) == {"database", "cache", "channel_layer", "broker"}


def test_invite_play_complete_and_the_worker_extracts_the_metrics(api, services: Services) -> None:
    import httpx

    # Given an assessment and an invited candidate
    assessment = api.post("/api/v1/assessments/", json={"name": "Pipeline", "games": ["balloons"]})
    assert assessment.status_code == 201, assessment.text
    invite = api.post(
        f"/api/v1/assessments/{assessment.json()['id']}/candidates/",
        json={"email": "pat@example.org", "name": "Pat Player", "external_id": "pat-1"},
    )
    assert invite.status_code == 201, invite.text
    token = invite.json()["invite_token"]

    # When the candidate starts, sends a bot's events in batches (one twice) and completes
    start = httpx.post(f"{services.base_url}/api/v1/play/{token}/start/", timeout=30).json()
    game_session_id = start["games"][0]["game_session_id"]
    auth = {"Authorization": f"Bearer {start['session_token']}"}
    config = api.get(f"/api/v1/candidates/{invite.json()['id']}/").json()  # status before play
    assert config["status"] == "started"
    game = get_game("balloons")
    from pymetrics.assessments.models import GameSession

    session_config = GameSession.objects.get(pk=game_session_id).config
    events = game.play(
        game.sample_latent(np.random.default_rng(7)), np.random.default_rng(8), session_config
    )
    acked = 0
    for start_index in range(0, len(events), 300):
        batch = events[start_index : start_index + 300]
        reply = httpx.post(
            f"{services.base_url}/api/v1/play/game-sessions/{game_session_id}/events/",
            json={"events": batch},
            headers=auth,
            timeout=30,
        )
        assert reply.status_code == 200, reply.text
        assert reply.json() == {
            "acked_seq": batch[-1]["seq"],
            "accepted": len(batch),
            "duplicates": 0,
        }
        acked = reply.json()["acked_seq"]
    resent = httpx.post(
        f"{services.base_url}/api/v1/play/game-sessions/{game_session_id}/events/",
        json={"events": events[:300]},
        headers=auth,
        timeout=30,
    )
    assert resent.json() == {"acked_seq": acked, "accepted": 0, "duplicates": 300}
    done = httpx.post(
        f"{services.base_url}/api/v1/play/game-sessions/{game_session_id}/complete/",
        headers=auth,
        timeout=30,
    )
    assert done.status_code == 202

    # Then the worker extracts the metrics, equal to the pure extractor on the same events
    def scored():
        detail = api.get(f"/api/v1/candidates/{invite.json()['id']}/").json()
        session = detail["attempts"][0]["game_sessions"][0]
        return detail if session["metrics"] else None

    detail = wait_until(scored, timeout=60)
    frame = pd.DataFrame(
        [{"session": game_session_id, **event} for event in events],
        columns=["session", "seq", "t", "type", "data"],
    )
    expected = game.extract(
        game.events_to_trials(frame[frame["type"].isin(game.trial_event_types)])
    )
    session = detail["attempts"][0]["game_sessions"][0]
    assert detail["status"] == "completed"
    assert session["status"] == "scored"
    assert session["event_count"] == len(events)
    assert session["metrics"]["extractor_version"] == game.extractor_version
    assert session["metrics"]["values"] == pytest.approx(expected.session_values(game_session_id))
    assert set(session["metrics"]["values"]) >= {
        "adjusted_pumps",
        "mean_pumps",
        "bursts",
        "earnings_cents",
    }


def test_export_metrics_reads_what_the_worker_stored(api, services: Services, capsys) -> None:
    import httpx

    assessment = api.post(
        "/api/v1/assessments/", json={"name": "Export", "games": ["balloons"]}
    ).json()
    invite = api.post(
        f"/api/v1/assessments/{assessment['id']}/candidates/",
        json={"email": "exp@example.org", "name": "Ex Port", "external_id": "exp-1"},
    ).json()
    start = httpx.post(f"{services.base_url}/api/v1/play/{invite['invite_token']}/start/").json()
    game_session_id = start["games"][0]["game_session_id"]
    auth = {"Authorization": f"Bearer {start['session_token']}"}
    # One balloon collected at 4 pumps, one burst at its burst point: hand-checkable.
    from pymetrics.assessments.models import GameSession

    burst_point = GameSession.objects.get(pk=game_session_id).config["burst_points"][1]
    events = [{"type": "balloon_start", "data": {"balloon": 1}}]
    events += [{"type": "pump", "data": {"balloon": 1, "pumps": n}} for n in range(1, 5)]
    events += [{"type": "collect", "data": {"balloon": 1, "pumps": 4}}]
    events += [{"type": "balloon_start", "data": {"balloon": 2}}]
    events += [
        {"type": "pump", "data": {"balloon": 2, "pumps": n}} for n in range(1, burst_point + 1)
    ]
    events += [{"type": "burst", "data": {"balloon": 2, "pumps": burst_point}}]
    numbered = [{"seq": i, "t": 100.0 * i, **e} for i, e in enumerate(events, start=1)]
    httpx.post(
        f"{services.base_url}/api/v1/play/game-sessions/{game_session_id}/events/",
        json={"events": numbered},
        headers=auth,
    ).raise_for_status()
    httpx.post(
        f"{services.base_url}/api/v1/play/game-sessions/{game_session_id}/complete/", headers=auth
    ).raise_for_status()
    wait_until(
        lambda: GameSession.objects.filter(pk=game_session_id, state="scored").exists(), timeout=60
    )

    call_command("export_metrics", "--org", "integration", "--assessment", "Export")

    lines = capsys.readouterr().out.splitlines()
    # adjusted = 4 (only balloon 1 kept); mean = (4 + burst_point) / 2; 1 burst; 5 x 4 cents
    mean = (4 + burst_point) / 2
    mean_text = str(int(mean)) if mean.is_integer() else repr(mean)
    assert lines == [
        "participant,game,metric,value",
        "exp-1,balloons,adjusted_pumps,4",
        f"exp-1,balloons,mean_pumps,{mean_text}",
        "exp-1,balloons,bursts,1",
        "exp-1,balloons,earnings_cents,20",
        "exp-1,balloons,adjusted_pumps_block_1,4",
    ]
