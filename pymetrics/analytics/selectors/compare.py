"""Trait profiles to compare side by side: candidates, assessments' candidates, norm groups.

Every profile is on one scale, the trait z of the organisation's current norm
table, so they can be compared at all:

* a candidate: the trait z of their latest attempt with its 90% interval;
* an assessment: the mean z of its completed candidates (their attempts at it)
  with the 90% interval of the mean (Student's t);
* a norm group: the norm population of the current table, whose trait z has mean
  0 and SD 1 by construction, with the interval of that mean. Another norm table's
  population is on another scale (its own metric norms), so it is not offered.

Every read is scoped: an id of another organisation is not found, exactly like
an unknown one. Each profile is cached under the scopes it shows.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count, Q

from pymetrics.accounts.models import Organization
from pymetrics.analytics.cache import cached
from pymetrics.analytics.stats.profiles import mean_interval, norm_group_interval
from pymetrics.assessments.models import Assessment, Attempt, AttemptState, Candidate
from pymetrics.common.errors import NotFound
from pymetrics.common.versions import (
    NORMS_SCOPE,
    assessment_scope,
    candidate_scope,
    organization_norms_scope,
)
from pymetrics.psychometrics import TraitMap, load_trait_map
from pymetrics.scoring.models import NormTable, TraitScore
from pymetrics.scoring.selectors import current_norm_table

#: At most this many profiles are compared at once (a chart stays readable).
MAX_PROFILES = 10
#: Candidates offered in the picker (the newest scored ones); any other of the
#: organisation's candidates can still be compared by id.
PICKER_CANDIDATES = 500


def compare_traits(*, organization: Organization) -> dict[str, Any]:
    """The scale of every comparison: the current norm table and its traits (in map order)."""
    table = current_norm_table(organization_id=organization.pk)
    trait_map = (
        TraitMap.from_dict(table.trait_map.definition) if table is not None else load_trait_map()
    )
    return {
        "norm_table": None
        if table is None
        else {
            "id": table.pk,
            "name": table.name,
            "version": table.version,
            "simulated": table.is_simulated,
            "n": table.n_attempts,
        },
        "traits": [{"trait": t.name, "poles": list(t.poles)} for t in trait_map.traits],
    }


def compare_choices(*, organization: Organization) -> dict[str, Any]:
    """What can be picked: scored candidates (newest first), assessments, the norm group."""
    table = current_norm_table(organization_id=organization.pk)
    candidates: list[Candidate] = []
    if table is not None:
        candidates = list(
            Candidate.objects.filter(
                organization=organization,
                pk__in=TraitScore.objects.filter(
                    norm_table=table, scored=True, attempt__candidate__organization=organization
                ).values("attempt__candidate_id"),
            ).order_by("-created_at", "-pk")[:PICKER_CANDIDATES]
        )
    assessments = list(
        Assessment.objects.filter(organization=organization)
        .annotate(
            completed_count=Count("attempts", filter=Q(attempts__state=AttemptState.COMPLETED))
        )
        .filter(completed_count__gt=0)
        .order_by("-created_at", "-pk")
    )
    return {"candidates": candidates, "assessments": assessments, "norm_table": table}


def compare_candidates_get(*, organization: Organization, ids: list[int]) -> list[Candidate]:
    """The organisation's candidates with these ids, in the order given; NotFound otherwise."""
    found = {c.pk: c for c in Candidate.objects.filter(organization=organization, pk__in=ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"candidate {missing[0]} not found")
    return [found[i] for i in ids]


def compare_assessments_get(*, organization: Organization, ids: list[int]) -> list[Assessment]:
    found = {a.pk: a for a in Assessment.objects.filter(organization=organization, pk__in=ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"assessment {missing[0]} not found")
    return [found[i] for i in ids]


def _by_trait(scores: list[TraitScore]) -> dict[str, TraitScore]:
    return {score.trait: score for score in scores}


def candidate_trait_profile(*, candidate: Candidate) -> dict[str, Any]:
    """A candidate's latest attempt's trait z with 90% intervals, per trait (cached)."""

    def compute() -> dict[str, Any]:
        table = current_norm_table(organization_id=candidate.organization_id)
        latest = Attempt.objects.filter(candidate=candidate).order_by("-created_at", "-pk").first()
        traits: dict[str, Any] = {}
        if table is not None and latest is not None:
            for trait, score in _by_trait(
                list(TraitScore.objects.filter(attempt=latest, norm_table=table, scored=True))
            ).items():
                traits[trait] = {
                    "value": score.z,
                    "low": score.z_low,
                    "high": score.z_high,
                    "percentile": score.percentile,
                    "n": 1,
                }
        return {
            "kind": "candidate",
            "id": candidate.pk,
            "attempt_id": latest.pk if latest else None,
            "simulated": candidate.is_simulated,
            "traits": traits,
        }

    return cached(
        f"compare:candidate:{candidate.pk}",
        [
            candidate_scope(candidate.pk),
            organization_norms_scope(candidate.organization_id),
            NORMS_SCOPE,
        ],
        compute,
    )


def assessment_trait_profile(*, assessment: Assessment) -> dict[str, Any]:
    """The mean trait z of an assessment's completed candidates, with the interval of the mean."""

    def compute() -> dict[str, Any]:
        table = current_norm_table(organization_id=assessment.organization_id)
        values: dict[str, list[float]] = defaultdict(list)
        completed = 0
        simulated = False
        if table is not None:
            attempts = Attempt.objects.filter(assessment=assessment, state=AttemptState.COMPLETED)
            completed = attempts.count()
            simulated = attempts.filter(candidate__is_simulated=True).exists()
            for trait, z in TraitScore.objects.filter(
                attempt__in=attempts, norm_table=table, scored=True
            ).values_list("trait", "z"):
                if z is not None:
                    values[trait].append(float(z))
        traits = {}
        for trait, zs in values.items():
            interval = mean_interval(zs)
            traits[trait] = {
                "value": interval["mean"],
                "low": interval["low"],
                "high": interval["high"],
                "sd": interval["sd"],
                "n": interval["n"],
            }
        return {
            "kind": "assessment",
            "id": assessment.pk,
            "name": assessment.name,
            "completed": completed,
            "simulated": simulated,
            "traits": traits,
        }

    return cached(
        f"compare:assessment:{assessment.pk}",
        [
            assessment_scope(assessment.pk),
            organization_norms_scope(assessment.organization_id),
            NORMS_SCOPE,
        ],
        compute,
    )


def norm_group_trait_profile(*, norm_table: NormTable) -> dict[str, Any]:
    """The norm population of ``norm_table``: mean z 0 per trait, interval of the mean."""
    traits = {}
    for trait, distribution in (norm_table.data.get("traits") or {}).items():
        interval = norm_group_interval(int(distribution["n"]))
        traits[trait] = {
            "value": interval["mean"],
            "low": interval["low"],
            "high": interval["high"],
            "sd": interval["sd"],
            "n": interval["n"],
        }
    return {
        "kind": "norm",
        "id": norm_table.pk,
        "name": norm_table.name,
        "version": norm_table.version,
        "simulated": norm_table.is_simulated,
        "traits": traits,
    }


def comparable_norm_table(*, organization: Organization, norm_table_id: int) -> NormTable:
    """The norm group ``norm_table_id`` if the organisation's scores are on its scale.

    Only the current table qualifies (see the module docstring); any other id,
    including another organisation's table, is not found.
    """
    table = current_norm_table(organization_id=organization.pk)
    if table is None or table.pk != norm_table_id:
        raise NotFound(f"norm table {norm_table_id} not found")
    return table
