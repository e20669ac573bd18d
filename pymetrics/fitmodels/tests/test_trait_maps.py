"""Adaptive trait maps: a proposal from the organisation's data, then a new version in use."""

from __future__ import annotations

import pytest

from pymetrics.accounts.services import Actor
from pymetrics.common.errors import Conflict
from pymetrics.fitmodels.models import ProposalState
from pymetrics.fitmodels.tests.world import store_metric_population, structured_metrics
from pymetrics.fitmodels.trait_map_services import trait_map_proposal_activate, trait_map_propose
from pymetrics.psychometrics.norms import build_norms
from pymetrics.psychometrics.trait_map import TraitMap
from pymetrics.scoring.models import NormPopulation, NormTable, TraitMapVersion
from pymetrics.scoring.selectors import current_norm_table
from pymetrics.scoring.services import trait_map_version_get_or_create

PEOPLE = 600


@pytest.fixture
def organisation_data(organization):
    trait_map_row = trait_map_version_get_or_create(version=1)
    trait_map = TraitMap.from_dict(trait_map_row.definition)
    metrics = structured_metrics(trait_map, PEOPLE, seed=11)
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
    store_metric_population(organization, metrics)
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
