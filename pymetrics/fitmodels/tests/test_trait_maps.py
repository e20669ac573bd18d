"""Adaptive trait maps: a proposal from the organisation's data, then a new version in use."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from django.utils import timezone

from pymetrics.accounts.services import Actor
from pymetrics.assessments.models import (
    Assessment,
    Attempt,
    AttemptState,
    Candidate,
    GameSession,
    GameSessionState,
)
from pymetrics.common.errors import Conflict
from pymetrics.fitmodels.models import ProposalState
from pymetrics.fitmodels.trait_map_services import trait_map_proposal_activate, trait_map_propose
from pymetrics.games.registry import get_game
from pymetrics.psychometrics.norms import build_norms
from pymetrics.psychometrics.trait_map import TraitMap
from pymetrics.scoring.models import MetricSet, NormPopulation, NormTable, TraitMapVersion
from pymetrics.scoring.selectors import current_norm_table
from pymetrics.scoring.services import trait_map_version_get_or_create

PEOPLE = 600


def _structured_metrics(trait_map: TraitMap, people: int, seed: int) -> pd.DataFrame:
    """Each trait a latent normal factor; each of its metrics sign x 0.7 x factor + noise."""
    rng = np.random.default_rng(seed)
    columns = {}
    for trait in trait_map.traits:
        factor = rng.normal(size=people)
        for metric in trait.metrics:
            columns[metric.key] = metric.sign * 0.7 * factor + rng.normal(
                scale=np.sqrt(0.51), size=people
            )
    return pd.DataFrame(columns)


@pytest.fixture
def organisation_data(organization):
    trait_map_row = trait_map_version_get_or_create(version=1)
    trait_map = TraitMap.from_dict(trait_map_row.definition)
    metrics = _structured_metrics(trait_map, PEOPLE, seed=11)
    NormTable.objects.create(
        organization=organization,
        name="Reference",
        version=1,
        population=NormPopulation.SIMULATED,
        is_simulated=True,
        trait_map=trait_map_row,
        n_attempts=20,
        data=build_norms(metrics, trait_map).to_dict(),
    )
    assessment = Assessment.objects.create(organization=organization, name="All", games=["arrows"])
    now = timezone.now()
    candidates = Candidate.objects.bulk_create(
        [Candidate(organization=organization, external_id=f"p-{i}") for i in range(PEOPLE)]
    )
    attempts = Attempt.objects.bulk_create(
        [
            Attempt(
                candidate=c,
                assessment=assessment,
                state=AttemptState.COMPLETED,
                invite_expires_at=now + timedelta(days=1),
                completed_at=now,
            )
            for c in candidates
        ]
    )
    games = sorted({key.split(".")[0] for key in metrics.columns})
    sessions = GameSession.objects.bulk_create(
        [
            GameSession(
                attempt=attempt,
                game=game,
                position=position,
                seed=0,
                state=GameSessionState.SCORED,
                completed_at=now,
            )
            for attempt in attempts
            for position, game in enumerate(games, start=1)
        ]
    )
    values = metrics.to_numpy(dtype="float64")
    MetricSet.objects.bulk_create(
        [
            MetricSet(
                game_session=session,
                game=session.game,
                extractor_version=get_game(session.game).extractor_version,
                values={
                    key.split(".", 1)[1]: float(values[index // len(games), column])
                    for column, key in enumerate(metrics.columns)
                    if key.startswith(session.game + ".")
                },
            )
            for index, session in enumerate(sessions)
        ]
    )
    return trait_map


def test_a_proposal_recovers_the_map_the_data_was_made_from(organization, organisation_data):
    proposal = trait_map_propose(actor=None, organization=organization)

    assert (proposal.n_people, proposal.simulated_people) == (PEOPLE, 0)
    traits = {t["name"]: t for t in proposal.proposal["traits"]}
    assert set(traits) == {trait.name for trait in organisation_data.traits}
    assert all(t["congruence"] >= 0.95 and t["reading"] == "equal" for t in traits.values())
    proposed = TraitMap.from_dict(proposal.definition)
    assert {t.name: {m.key for m in t.metrics} for t in proposed.traits} == {
        t.name: {m.key for m in t.metrics} for t in organisation_data.traits
    }


def test_activating_a_proposal_puts_a_new_map_version_in_use(
    organization, recruiter, organisation_data
):
    admin = Actor(user=recruiter, organization=organization, role="admin")
    proposal = trait_map_propose(actor=admin, organization=organization)

    table = trait_map_proposal_activate(actor=admin, proposal=proposal)

    proposal.refresh_from_db()
    assert proposal.state == ProposalState.ACTIVATED
    assert proposal.activated_version is not None
    assert proposal.activated_version.version == 2
    assert (
        TraitMapVersion.objects.get(version=2).definition["traits"] == proposal.definition["traits"]
    )
    assert trait_map_version_get_or_create(version=2) == proposal.activated_version
    assert (table.trait_map.version, table.is_simulated, table.n_attempts) == (2, True, 20)
    assert current_norm_table(organization_id=organization.pk) == table
    with pytest.raises(Conflict):
        trait_map_proposal_activate(actor=admin, proposal=proposal)
