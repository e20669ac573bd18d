"""Norm tables and trait inference stored: versions, hand-computed scores, re-scoring.

The population below is small enough to work out by hand. Four candidates played
balloons and easy_or_hard; risk_tolerance = balloons.adjusted_pumps (+) and
easy_or_hard.hard_choice_rate_p12 (+), the only trait with all its metrics here.

    adjusted_pumps      10, 20, 30, 40     mean 25,   SD sqrt(500/3)  = 12.909944
    hard_choice_p12     0, .2, .2, .6      mean .25,  SD sqrt(.19/3)  = 0.251661
    z adjusted          -1.161895, -0.387298, 0.387298, 1.161895
    z p12               -0.993399, -0.198680, -0.198680, 1.390759
    raw = mean of both  -1.077647, -0.292989, 0.094309, 1.276327   (mean 0, SD 0.980658)
    trait z = raw / SD  -1.098902, -0.298768, 0.096169, 1.301501
    percentile (mid-rank of 4 distinct values): 12.5, 37.5, 62.5, 87.5
    reliability: no events to split, so the default 0.70: SEM = sqrt(0.3) = 0.547723,
    half-width 1.645 * SEM = 0.901004
    candidate 4: z_low 0.400497 -> raw 0.392751 -> 3 of 4 below -> percentile 75
                 z_high 2.202505 -> raw 2.159906 -> all 4 below -> percentile 100
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from pymetrics.accounts.models import AuditLog, Organization
from pymetrics.assessments.models import Assessment, Attempt, GameSession
from pymetrics.assessments.services import (
    assessment_create,
    attempt_consent,
    attempt_start,
    candidate_invite,
)
from pymetrics.common.errors import Conflict, ValidationFailed
from pymetrics.games.registry import get_game
from pymetrics.scoring import services
from pymetrics.scoring.models import MetricSet, NormTable, TraitMapVersion, TraitScore
from pymetrics.scoring.services import (
    norm_table_build,
    trait_map_version_get_or_create,
    traits_infer,
    traits_reinfer_for_norm_table,
)

RAW = [-1.077647, -0.292989, 0.094309, 1.276327]
TRAIT_Z = [-1.098902, -0.298768, 0.096169, 1.301501]
PERCENTILE = [12.5, 37.5, 62.5, 87.5]
HALF_WIDTH = 0.901004


def _scored_attempt(
    assessment: Assessment,
    external_id: str,
    values: dict[str, dict[str, float]],
    flags: dict[str, list[str]] | None = None,
) -> Attempt:
    """A candidate whose games were scored with these metric values (no events)."""
    invitation = candidate_invite(assessment=assessment, external_id=external_id)
    attempt_consent(attempt=invitation.attempt, accommodations={})
    attempt_start(attempt=invitation.attempt)
    for game_session in invitation.attempt.game_sessions.all():
        if game_session.game not in values:
            continue
        GameSession.objects.filter(pk=game_session.pk).update(state="scored")
        MetricSet.objects.create(
            game_session=game_session,
            game=game_session.game,
            extractor_version=get_game(game_session.game).extractor_version,
            values=values[game_session.game],
            quality_flags=(flags or {}).get(game_session.game, []),
        )
    return invitation.attempt


@pytest.fixture
def battery(organization: Organization) -> Assessment:
    return assessment_create(
        organization=organization, name="Risk battery", games=["balloons", "easy_or_hard"]
    )


@pytest.fixture
def population(battery: Assessment) -> list[Attempt]:
    pumps = [10.0, 20.0, 30.0, 40.0]
    p12 = [0.0, 0.2, 0.2, 0.6]
    return [
        _scored_attempt(
            battery,
            f"p{index + 1}",
            {
                "balloons": {"adjusted_pumps": pumps[index], "bursts": 3.0},
                "easy_or_hard": {"hard_choice_rate_p12": p12[index], "hard_choice_rate": 0.5},
            },
            flags={"balloons": ["focus_lost"]} if index == 3 else None,
        )
        for index in range(4)
    ]


def _scores(table: NormTable, trait: str) -> dict[str, TraitScore]:
    return {
        str(score.attempt.candidate.external_id): score
        for score in TraitScore.objects.filter(norm_table=table, trait=trait).select_related(
            "attempt__candidate"
        )
    }


def test_the_trait_map_is_stored_once_and_a_changed_one_is_refused(db) -> None:
    first = trait_map_version_get_or_create(version=1)
    again = trait_map_version_get_or_create(version=1)

    assert first.pk == again.pk
    assert [t["name"] for t in first.definition["traits"]][:3] == [
        "attention",
        "decision_making",
        "effort",
    ]
    TraitMapVersion.objects.filter(pk=first.pk).update(definition={"version": 1, "traits": []})
    with pytest.raises(Conflict, match="give the changed map a new version"):
        trait_map_version_get_or_create(version=1)
    with pytest.raises(ValidationFailed):
        trait_map_version_get_or_create(version=99)


def test_organisation_norms_score_each_candidate_by_hand(organization, population) -> None:
    table = norm_table_build(
        population="organisation", name="Acme norms", organization=organization
    )
    traits_reinfer_for_norm_table(norm_table=table)

    assert (table.version, table.n_attempts, table.is_simulated) == (1, 4, False)
    adjusted = table.data["metrics"]["balloons.adjusted_pumps"]
    assert (adjusted["n"], adjusted["mean"]) == (4, 25.0)
    assert adjusted["sd"] == pytest.approx(12.909944, abs=1e-6)
    # no events were stored, so no split halves: every reliability is the default
    assert table.reliabilities["risk_tolerance"] == {"r": 0.7, "source": "default", "n": 0}

    risk = _scores(table, "risk_tolerance")
    for index, participant in enumerate(["p1", "p2", "p3", "p4"]):
        score = risk[participant]
        assert score.scored
        assert score.raw == pytest.approx(RAW[index], abs=1e-6)
        assert score.z == pytest.approx(TRAIT_Z[index], abs=1e-6)
        assert score.percentile == pytest.approx(PERCENTILE[index])
        assert score.z_low == pytest.approx(TRAIT_Z[index] - HALF_WIDTH, abs=1e-6)
        assert score.z_high == pytest.approx(TRAIT_Z[index] + HALF_WIDTH, abs=1e-6)
        assert (score.metrics_present, score.metrics_total, score.reliability) == (2, 2, 0.7)
        assert score.trait_map.version == 1
        assert score.extractor_versions == {"balloons": 1, "easy_or_hard": 1}
    assert (risk["p4"].percentile_low, risk["p4"].percentile_high) == (75.0, 100.0)
    # the flags of the games behind a trait travel with it
    assert risk["p4"].quality_flags == ["focus_lost"]
    assert risk["p1"].quality_flags == []


def test_a_trait_with_too_few_metrics_is_not_scored_and_says_why(organization, population):
    table = norm_table_build(
        population="organisation", name="Acme norms", organization=organization
    )
    traits_reinfer_for_norm_table(norm_table=table)

    attention = _scores(table, "attention")["p1"]
    effort = _scores(table, "effort")["p1"]

    assert (attention.scored, attention.z, attention.percentile) == (False, None, None)
    assert (attention.metrics_present, attention.metrics_total) == (0, 2)
    assert "digits.forward_span" in attention.reason
    assert "arrows.congruency_effect_rt_ms" in attention.reason
    # effort: hard_choice_rate is present but has no spread (0.5 for all), so it cannot
    # be standardised; with taps_per_s absent too, nothing is left
    assert effort.scored is False
    assert TraitScore.objects.filter(norm_table=table).count() == 4 * 9


def test_a_new_norm_version_rescores_every_affected_attempt_exactly_once(
    organization, other_organization, population, monkeypatch
) -> None:
    first = norm_table_build(
        population="organisation", name="Acme norms", organization=organization
    )
    traits_reinfer_for_norm_table(norm_table=first)
    # another organisation's candidate, scored against the shared reference
    elsewhere = assessment_create(
        organization=other_organization, name="Elsewhere", games=["balloons"]
    )
    outsider = _scored_attempt(elsewhere, "x1", {"balloons": {"adjusted_pumps": 33.0}})
    seen: list[int] = []
    real_infer = services.infer_traits

    def counting_infer(metrics: Any, *args: Any, **kwargs: Any) -> Any:
        seen.extend(int(attempt) for attempt in metrics.index)
        return real_infer(metrics, *args, **kwargs)

    monkeypatch.setattr(services, "infer_traits", counting_infer)

    second = norm_table_build(
        population="organisation", name="Acme norms", organization=organization
    )
    summary = traits_reinfer_for_norm_table(norm_table=second)

    assert second.version == 2
    assert sorted(seen) == sorted(attempt.pk for attempt in population)
    assert outsider.pk not in seen
    assert summary.attempts == 4
    assert TraitScore.objects.filter(norm_table=second).count() == 4 * 9
    # the first version's scores stay as they were: every number keeps its versions
    assert TraitScore.objects.filter(norm_table=first).count() == 4 * 9
    assert AuditLog.objects.filter(action="norm_table.build").count() == 2


def test_inference_again_replaces_rather_than_duplicates(organization, population) -> None:
    table = norm_table_build(
        population="organisation", name="Acme norms", organization=organization
    )
    traits_infer(attempt_ids=[a.pk for a in population])
    before = {(s.attempt_id, s.trait): s.z for s in TraitScore.objects.filter(norm_table=table)}

    traits_infer(attempt_ids=[a.pk for a in population])

    after = {(s.attempt_id, s.trait): s.z for s in TraitScore.objects.filter(norm_table=table)}
    assert after == before
    assert len(after) == 4 * 9


def test_norm_tables_refuse_too_small_or_unknown_populations(organization, battery) -> None:
    _scored_attempt(battery, "only", {"balloons": {"adjusted_pumps": 12.0}})

    with pytest.raises(ValidationFailed, match="only 1 scored candidate"):
        norm_table_build(population="organisation", name="n", organization=organization)
    with pytest.raises(ValidationFailed, match="unknown population"):
        norm_table_build(population="planet", name="n", organization=organization)
    with pytest.raises(ValidationFailed, match="needs an organisation"):
        norm_table_build(population="assessment", name="n")
    with pytest.raises(ValidationFailed, match="needs a name"):
        norm_table_build(population="simulated", name="  ")


def test_a_simulated_reference_is_shared_labelled_and_estimates_reliability(db) -> None:
    table = norm_table_build(population="simulated", name="Reference", players=40, seed=3)

    assert (table.organization, table.is_simulated, table.population) == (None, True, "simulated")
    assert table.n_attempts == 40
    assert str(table) == "Reference v1 (simulated)"
    # every game of the catalogue yields norms for its metrics
    assert "stop.ssrt_ms" in table.data["metrics"]
    assert sorted(key for key in table.data["metrics"] if key.startswith("tower.")) == [
        "tower.excess_moves",
        "tower.execution_time_ms",
        "tower.perfect_solutions",
        "tower.planning_time_ms",
        "tower.solved_rate",
    ]
    # 40 players, so split halves estimate every trait's reliability (all games exist)
    assert sorted(table.reliabilities) == [
        "attention",
        "decision_making",
        "effort",
        "emotion",
        "fairness",
        "focus",
        "generosity",
        "learning",
        "risk_tolerance",
    ]
    assert {rel["source"] for rel in table.reliabilities.values()} == {"split_half"}
    assert all(0 < rel["r"] <= 0.99 and rel["n"] == 40 for rel in table.reliabilities.values())


def test_candidates_api_shows_traits_with_intervals_and_versions(
    staff_client, organization, population
) -> None:
    table = norm_table_build(
        population="organisation", name="Acme norms", organization=organization
    )
    traits_reinfer_for_norm_table(norm_table=table)
    candidate = population[3].candidate

    body = staff_client.get(reverse("api:candidate-detail", args=[candidate.pk])).json()

    traits = {t["trait"]: t for t in body["traits"]}
    assert list(traits) == [
        "attention",
        "decision_making",
        "effort",
        "emotion",
        "fairness",
        "focus",
        "generosity",
        "learning",
        "risk_tolerance",
    ]
    risk = traits["risk_tolerance"]
    assert risk["poles"] == ["risk-seeking", "cautious"]
    assert risk["score"] == pytest.approx(TRAIT_Z[3], abs=1e-6)
    assert risk["percentile"] == 87.5
    assert risk["interval"]["level"] == 0.9
    assert (risk["interval"]["percentile_low"], risk["interval"]["percentile_high"]) == (75, 100)
    assert risk["quality_flags"][0]["code"] == "focus_lost"
    assert risk["versions"]["norm_table"] == {
        "id": table.pk,
        "name": "Acme norms",
        "version": 1,
        "population": "organisation",
        "simulated": False,
    }
    assert risk["versions"]["trait_map"] == 1
    assert traits["attention"]["scored"] is False
    assert traits["attention"]["interval"] is None
    assert body["attempts"][0]["traits"] == body["traits"]


def test_export_traits_writes_scored_traits_with_intervals(organization, population, capsys):
    table = norm_table_build(
        population="organisation", name="Acme norms", organization=organization
    )
    traits_reinfer_for_norm_table(norm_table=table)
    organization_slug = organization.slug

    call_command("export_traits", "--org", organization_slug)

    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["participant"], r["trait"]) for r in rows] == [
        ("p1", "risk_tolerance"),
        ("p2", "risk_tolerance"),
        ("p3", "risk_tolerance"),
        ("p4", "risk_tolerance"),
    ]
    last = rows[3]
    assert float(last["score"]) == pytest.approx(TRAIT_Z[3], abs=1e-6)
    assert float(last["percentile"]) == 87.5
    assert float(last["ci_low"]) == pytest.approx(TRAIT_Z[3] - HALF_WIDTH, abs=1e-6)
    assert float(last["ci_high"]) == pytest.approx(TRAIT_Z[3] + HALF_WIDTH, abs=1e-6)
    assert AuditLog.objects.filter(action="traits.export").get().details["rows"] == 4


def test_export_traits_without_norms_says_what_to_do(organization) -> None:
    with pytest.raises(CommandError, match="build one with build_norms"):
        call_command("export_traits", "--org", organization.slug)


def test_build_norms_command_reports_reliabilities_and_rescoring(organization, population):
    out = io.StringIO()

    call_command(
        "build_norms",
        "--population",
        "assessment",
        "--name",
        "Risk",
        "--org",
        organization.slug,
        "--assessment",
        "Risk battery",
        stdout=out,
        stderr=io.StringIO(),
    )

    lines = out.getvalue().splitlines()
    assert lines[0] == "norm table 'Risk' v1: 4 people, 2 metrics, trait map v1"
    assert "  risk_tolerance   reliability 0.700 (default, n=0)" in lines
    assert lines[-1] == "re-scored 4 attempts: 4 traits scored, 32 not scorable"
    table = NormTable.objects.get()
    assert table.assessment is not None
    assert table.assessment.name == "Risk battery"
