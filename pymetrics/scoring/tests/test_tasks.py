"""The scoring tasks: extraction then inference, batch re-extraction, re-inference.

Tasks run in-process here (the embedded default); the integration tier runs them on
a real worker.
"""

from __future__ import annotations

import pytest

from pymetrics.assessments.models import GameSession
from pymetrics.conftest import HAND_METRICS, PlayClient
from pymetrics.scoring.models import MetricSet, NormTable, TraitScore
from pymetrics.scoring.services import game_sessions_needing_extraction, norm_table_build
from pymetrics.scoring.tasks import (
    extract_game_session_metrics,
    reextract_game,
    reinfer_norm_table_traits,
)


@pytest.fixture
def reference(db) -> NormTable:
    """A small shared simulated reference, so every organisation's attempts get traits."""
    return norm_table_build(population="simulated", name="Reference", players=30, seed=4)


def test_a_completed_game_is_extracted_and_its_attempt_s_traits_inferred(
    reference: NormTable, scored_play: PlayClient
) -> None:
    # the hand-made balloons session: adjusted_pumps 1.5 (SCIENCE.md), so the candidate
    # is far below the simulated players on risk tolerance
    scores = {
        score.trait: score for score in TraitScore.objects.filter(attempt_id=scored_play.attempt_id)
    }

    assert len(scores) == 9
    risk = scores["risk_tolerance"]
    assert (risk.scored, risk.metrics_present, risk.metrics_total) == (True, 1, 2)
    assert risk.norm_table == reference
    assert risk.extractor_versions == {"balloons": 1}
    adjusted = reference.data["metrics"]["balloons.adjusted_pumps"]
    metric_z = max(-4.0, (1.5 - adjusted["mean"]) / adjusted["sd"])
    trait = reference.data["traits"]["risk_tolerance"]
    assert risk.raw == pytest.approx(metric_z)
    assert risk.z == pytest.approx((metric_z - trait["mean"]) / trait["sd"])
    assert risk.percentile is not None
    assert risk.percentile < 10
    assert scores["attention"].scored is False


def test_running_extraction_again_changes_nothing(
    reference: NormTable, scored_play: PlayClient
) -> None:
    before = list(TraitScore.objects.values_list("pk", "trait", "z").order_by("trait"))

    extract_game_session_metrics.delay(scored_play.game_session_id)

    after = list(TraitScore.objects.values_list("trait", "z").order_by("trait"))
    assert after == [(trait, z) for _, trait, z in before]
    assert MetricSet.objects.get().values == HAND_METRICS


def test_batch_reextraction_does_only_the_sessions_behind_the_current_version(
    reference: NormTable, scored_play: PlayClient
) -> None:
    # given a session whose only metric set is from an older extractor version
    MetricSet.objects.update(extractor_version=0)
    assert game_sessions_needing_extraction(game="balloons") == [scored_play.game_session_id]

    first = reextract_game.delay("balloons").get()
    second = reextract_game.delay("balloons").get()

    assert first == {"extracted": 1, "attempts": 1}
    assert second == {"extracted": 0, "attempts": 0}
    versions = sorted(MetricSet.objects.values_list("extractor_version", flat=True))
    assert versions == [0, 1]
    assert MetricSet.objects.get(extractor_version=1).values == HAND_METRICS
    assert GameSession.objects.get().state == "scored"


def test_a_new_norm_table_rescores_through_its_task(
    reference: NormTable, scored_play: PlayClient
) -> None:
    newer = norm_table_build(population="simulated", name="Reference", players=30, seed=5)

    result = reinfer_norm_table_traits.delay(newer.pk).get()

    # balloons alone can only score risk tolerance (1 of its 2 metrics)
    assert result == {"attempts": 1, "scored": 1}
    assert TraitScore.objects.filter(norm_table=newer).count() == 9
    assert TraitScore.objects.filter(norm_table=reference).count() == 9


def test_imported_trials_get_traits_in_the_same_import(reference: NormTable, tmp_path) -> None:
    from django.core.management import call_command

    path = tmp_path / "bart.csv"
    path.write_text("participant,trial,pumps,burst\np1,1,40,0\np1,2,50,0\np2,1,3,0\n")

    call_command("import_trials", str(path), "--game", "balloons")

    risk = dict(
        TraitScore.objects.filter(trait="risk_tolerance").values_list(
            "attempt__candidate__external_id", "percentile"
        )
    )
    assert set(risk) == {"p1", "p2"}
    assert risk["p1"] is not None
    assert risk["p2"] is not None
    assert risk["p1"] > risk["p2"]  # 45 adjusted pumps against 3


def test_failed_extractions_are_listed_in_admin_and_can_be_retried(
    admin_client, scored_play: PlayClient
) -> None:
    GameSession.objects.filter(pk=scored_play.game_session_id).update(
        state="failed", scoring_error="ValueError: a broken extractor"
    )
    MetricSet.objects.all().delete()
    url = "/admin/scoring/failedscoringjob/"

    listing = admin_client.get(url)
    retried = admin_client.post(
        url, {"action": "retry", "_selected_action": [scored_play.game_session_id]}, follow=True
    )

    assert "ValueError: a broken extractor" in listing.content.decode()
    assert "1 extraction(s) queued." in retried.content.decode()
    # the retry ran (in-process here) and the session is scored again
    assert GameSession.objects.get().state == "scored"
    assert MetricSet.objects.get().values == HAND_METRICS
    assert "ValueError" not in admin_client.get(url).content.decode()


def test_new_scores_are_announced_to_the_candidate_s_and_the_assessment_s_groups(
    reference: NormTable, play: PlayClient, make_balloon_events, live
) -> None:
    from pymetrics.conftest import HAND_PLAN
    from pymetrics.scoring.tasks import infer_attempt_traits

    attempt = GameSession.objects.get(pk=play.game_session_id).attempt
    traits = live.listen(f"traits.{attempt.candidate_id}")
    dashboard = live.listen(f"dashboard.{attempt.assessment_id}")
    play.send(make_balloon_events(HAND_PLAN))
    MetricSet.objects.create(
        game_session_id=play.game_session_id,
        game="balloons",
        extractor_version=1,
        values=HAND_METRICS,
    )

    infer_attempt_traits.delay(attempt.pk)

    live.flush()
    assert traits == [
        {"type": "traits.updated", "candidate_id": attempt.candidate_id, "attempt_id": attempt.pk}
    ]
    assert dashboard == [
        {
            "type": "scores.updated",
            "assessment_id": attempt.assessment_id,
            "count": 1,
            "attempt_ids": [attempt.pk],
        }
    ]


def test_live_notices_that_cannot_be_sent_cost_only_the_live_update(
    reference: NormTable, scored_play: PlayClient, settings
) -> None:
    from pymetrics.scoring import services

    # a Redis that refuses connections (nothing listens on port 1)
    settings.PYMETRICS_LIVE_REDIS_URL = "redis://127.0.0.1:1/0"

    sent = services.trait_scores_announce(attempt_ids=[scored_play.attempt_id])

    assert sent == 0
    assert TraitScore.objects.filter(attempt_id=scored_play.attempt_id).count() == 9
