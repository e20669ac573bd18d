"""Events to traits on the real stack: the worker extracts, then infers, as scores land.

A shared simulated reference norm table applies (no organisation has its own). A
candidate plays balloons and keypresses over HTTP with bots' events; after each
game the worker extracts the metrics and re-infers the attempt's traits. The stored
trait scores must equal the pure trait mathematics run on the pure extractors'
metrics of the same events, against the same norm table.
"""

from __future__ import annotations

import httpx
import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command

from pymetrics.accounts.services import organization_create
from pymetrics.assessments.models import GameSession
from pymetrics.assessments.services import assessment_create, candidate_invite
from pymetrics.games.registry import get_game
from pymetrics.psychometrics import NormTableData, TraitMap, infer_traits
from pymetrics.scoring.models import NormTable, TraitScore
from tests.integration.conftest import Services, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _play(services: Services, token: str, game_session_id: int, events: list[dict]) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    base = f"{services.base_url}/api/v1/play/game-sessions/{game_session_id}"
    for start in range(0, len(events), 500):
        reply = httpx.post(
            f"{base}/events/", json={"events": events[start : start + 500]}, headers=auth
        )
        assert reply.status_code == 200, reply.text
    assert httpx.post(f"{base}/complete/", headers=auth).status_code == 202


def test_the_worker_infers_traits_against_the_norms_as_each_game_lands(
    services: Services, capsys
) -> None:
    call_command(
        "build_norms",
        "--population",
        "simulated",
        "--name",
        "Reference",
        "--players",
        "40",
        "--seed",
        "5",
    )
    capsys.readouterr()
    table = NormTable.objects.get()
    organization = organization_create(name="Traits Org", slug="traits-org")
    assessment = assessment_create(
        organization=organization, name="Two games", games=["balloons", "keypresses"]
    )
    invitation = candidate_invite(assessment=assessment, external_id="kim-1", name="Kim")
    start = httpx.post(
        f"{services.base_url}/api/v1/play/{invitation.invite_token}/start/", timeout=30
    ).json()
    rng = np.random.default_rng(12)
    metrics: dict[str, float] = {}
    for entry in start["games"]:
        game_session = GameSession.objects.get(pk=entry["game_session_id"])
        game = get_game(game_session.game)
        events = game.play(game.sample_latent(rng), rng, game_session.config)
        _play(services, start["session_token"], game_session.pk, events)
        frame = pd.DataFrame(
            [{"session": 1, **event} for event in events],
            columns=["session", "seq", "t", "type", "data"],
        )
        trials = game.events_to_trials(frame[frame["type"].isin(game.trial_event_types)])
        values = game.extract(trials).session_values(1)
        metrics.update({f"{game.key}.{name}": value for name, value in values.items()})

    attempt_id = start["attempt_id"]
    wait_until(
        lambda: (
            TraitScore.objects.filter(attempt_id=attempt_id, trait="effort", scored=True)
            .exclude(extractor_versions={})
            .exists()
        ),
        timeout=90,
    )
    stored = {s.trait: s for s in TraitScore.objects.filter(attempt_id=attempt_id)}
    expected = infer_traits(
        pd.DataFrame([metrics], index=pd.Index([attempt_id], name="attempt")),
        NormTableData.from_dict(table.data),
        TraitMap.from_dict(table.trait_map.definition),
        {trait: entry["r"] for trait, entry in table.reliabilities.items()},
    ).set_index("trait")

    assert len(stored) == 9
    # balloons.adjusted_pumps is 1 of risk tolerance's 2 metrics, keypresses.taps_per_s
    # 1 of effort's 2: both scored; focus has 1 of 3 (keypresses.iti_cv): not scored
    assert {t for t, s in stored.items() if s.scored} == {"risk_tolerance", "effort"}
    for trait in ("risk_tolerance", "effort"):
        assert stored[trait].z == pytest.approx(expected.loc[trait, "z"])
        assert stored[trait].percentile == pytest.approx(expected.loc[trait, "percentile"])
        assert stored[trait].z_low == pytest.approx(expected.loc[trait, "z_low"])
        assert stored[trait].norm_table_id == table.pk
    assert stored["effort"].extractor_versions == {"keypresses": 1}
    assert "keypresses.iti_cv" not in stored["focus"].reason
    assert "stop.ssrt_ms" in stored["focus"].reason

    call_command("export_traits", "--org", "traits-org")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "participant,trait,score,percentile,ci_low,ci_high"
    assert [line.split(",")[:2] for line in lines[1:]] == [
        ["kim-1", "effort"],
        ["kim-1", "risk_tolerance"],
    ]
