"""Adaptive trait maps: propose one from an organisation's data, activate it, re-score.

A proposal runs factor analysis with varimax rotation over the metric z-scores of
the organisation's completed candidates (against its current norm table) and
compares each factor with the current map's traits (Tucker congruence,
:mod:`pymetrics.fitmodels.science.factors`). Activating it stores the map as the
next trait map version, builds a norm table of the same population with it, and
re-scores every candidate against that table (which also re-scores job fit).
"""

from __future__ import annotations

from django.db import transaction

from pymetrics.accounts.models import Organization
from pymetrics.accounts.services import Actor, audit_log_record
from pymetrics.assessments.models import Attempt, AttemptState
from pymetrics.common.errors import Conflict, ValidationFailed
from pymetrics.fitmodels.models import ProposalState, TraitMapProposal
from pymetrics.fitmodels.selectors import norm_table_for
from pymetrics.fitmodels.services import require_model_manager
from pymetrics.psychometrics.inference import metric_z_scores
from pymetrics.psychometrics.norms import NormTableData
from pymetrics.psychometrics.trait_map import TraitMap
from pymetrics.scoring.models import NormPopulation, NormTable, TraitMapVersion
from pymetrics.scoring.selectors import attempt_metrics
from pymetrics.scoring.services import norm_table_build, trait_map_version_register


def trait_map_propose(
    *, actor: Actor | None, organization: Organization, n_factors: int | None = None
) -> TraitMapProposal:
    """Factor-analyse the organisation's completed candidates into a proposed trait map."""
    # scikit-learn on first use: web processes that never propose do not carry it
    from pymetrics.fitmodels.science.factors import propose_trait_map

    require_model_manager(actor, "propose a trait map")
    table = norm_table_for(organization.pk)
    rows = (
        Attempt.objects.filter(candidate__organization=organization, state=AttemptState.COMPLETED)
        .exclude(game_sessions__invalidated_at__isnull=False)
        .values_list("pk", "candidate__is_simulated")
        .distinct()
    )
    attempts = dict(rows)
    if not attempts:
        raise ValidationFailed("no completed candidates to analyse yet", code="no_candidates")
    metrics = attempt_metrics(attempt_ids=sorted(attempts)).metrics
    z = metric_z_scores(metrics, NormTableData.from_dict(table.data))
    current = TraitMap.from_dict(table.trait_map.definition)
    latest = TraitMapVersion.objects.order_by("-version").values_list("version", flat=True).first()
    try:
        proposal = propose_trait_map(
            metric_z=z, current=current, version=(latest or 0) + 1, n_factors=n_factors
        )
    except ValueError as error:
        raise ValidationFailed(f"cannot propose a trait map: {error}") from None
    with transaction.atomic():
        stored = TraitMapProposal.objects.create(
            organization=organization,
            based_on=table.trait_map,
            proposal=proposal.to_dict(),
            definition=proposal.trait_map_dict(),
            n_people=len(attempts),
            simulated_people=sum(bool(simulated) for simulated in attempts.values()),
            created_by=actor.user if actor else None,
        )
        audit_log_record(
            actor=actor,
            organization=organization,
            action="trait_map.propose",
            object_type="traitmapproposal",
            object_id=stored.pk,
            details={"people": stored.n_people, "based_on": table.trait_map.version},
        )
    return stored


def trait_map_proposal_activate(*, actor: Actor | None, proposal: TraitMapProposal) -> NormTable:
    """Store the proposed map as the next version, build norms with it, re-score everyone."""
    from pymetrics.scoring.tasks import reinfer_norm_table_traits

    require_model_manager(actor, "activate a trait map")
    if proposal.state != ProposalState.PROPOSED:
        raise Conflict(f"this proposal was already {proposal.state}")
    organization = proposal.organization
    current = norm_table_for(organization.pk)
    with transaction.atomic():
        version = trait_map_version_register(definition=proposal.definition)
        if current.population == NormPopulation.SIMULATED:
            table = norm_table_build(
                population=NormPopulation.SIMULATED,
                name=f"{organization.name} reference (trait map v{version.version})",
                organization=organization,
                players=current.n_attempts,
                trait_map_version=version.version,
                actor=actor,
            )
        else:
            table = norm_table_build(
                population=current.population,
                name=current.name,
                organization=organization,
                assessment=current.assessment,
                trait_map_version=version.version,
                actor=actor,
            )
        TraitMapProposal.objects.filter(pk=proposal.pk).update(
            state=ProposalState.ACTIVATED, activated_version=version
        )
        audit_log_record(
            actor=actor,
            organization=organization,
            action="trait_map.activate",
            object_type="traitmapproposal",
            object_id=proposal.pk,
            details={"trait_map_version": version.version, "norm_table": table.pk},
        )
        transaction.on_commit(lambda: reinfer_norm_table_traits.delay(table.pk))
    proposal.refresh_from_db()
    return table
