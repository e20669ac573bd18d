"""Celery tasks of the scoring pipeline: ids in, idempotent, retried with backoff.

Each stage calls the next explicitly: a game session's extraction is followed by
its attempt's trait inference, and a new norm table by the re-inference of every
attempt it now applies to.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils.module_loading import import_string

from pymetrics.assessments.models import GameSession
from pymetrics.common.tasks import RETRY_ON_OUTAGES
from pymetrics.scoring.models import NormTable
from pymetrics.scoring.services import (
    attempts_scored_by,
    game_sessions_needing_extraction,
    metric_sets_extract,
    trait_scores_announce,
    traits_infer,
    traits_reinfer_for_norm_table,
)


def _after_traits(attempt_ids: list[int]) -> None:
    """The next stages once attempts have new trait scores (job-fit scoring).

    Named in ``PYMETRICS_AFTER_TRAITS`` (dotted paths of Celery tasks, each taking a
    list of attempt ids) rather than imported here: the stages that read trait
    scores sit above this one, which must not depend on them.
    """
    for path in settings.PYMETRICS_AFTER_TRAITS:
        import_string(path).delay(attempt_ids)


#: Sessions per re-extraction batch: one bulk event load and one extractor call per game.
REEXTRACT_BATCH = 500


@shared_task(name="scoring.extract_game_session_metrics", **RETRY_ON_OUTAGES)
def extract_game_session_metrics(game_session_id: int) -> dict[str, int]:
    """Extract the metrics of one completed game session (again, if already done)."""
    summary = metric_sets_extract(game_session_ids=[game_session_id])
    attempt_id = (
        GameSession.objects.filter(pk=game_session_id).values_list("attempt_id", flat=True).first()
    )
    if attempt_id is not None and summary.extracted:
        infer_attempt_traits.delay(attempt_id)
    return {"extracted": summary.extracted, "skipped": summary.skipped}


@shared_task(name="scoring.infer_attempt_traits", **RETRY_ON_OUTAGES)
def infer_attempt_traits(attempt_id: int) -> dict[str, int]:
    """Infer (again) the traits of one attempt against its organisation's norms."""
    summary = traits_infer(attempt_ids=[attempt_id])
    if summary.attempts:
        trait_scores_announce(attempt_ids=[attempt_id])
        _after_traits([attempt_id])
    return {"scored": summary.scored_traits, "unscored": summary.unscored_traits}


@shared_task(name="scoring.reinfer_norm_table_traits", **RETRY_ON_OUTAGES)
def reinfer_norm_table_traits(norm_table_id: int) -> dict[str, int]:
    """Re-score every attempt a (new) norm table applies to, in vectorised batches."""
    norm_table = NormTable.objects.select_related("trait_map").get(pk=norm_table_id)
    summary = traits_reinfer_for_norm_table(norm_table=norm_table)
    attempt_ids = attempts_scored_by(norm_table=norm_table)
    trait_scores_announce(attempt_ids=attempt_ids)
    _after_traits(attempt_ids)
    return {"attempts": summary.attempts, "scored": summary.scored_traits}


@shared_task(name="scoring.reextract_game", **RETRY_ON_OUTAGES)
def reextract_game(game: str) -> dict[str, int]:
    """Bring every completed session of ``game`` to the current extractor version.

    Sessions already extracted by the current version are skipped, so a retry or a
    second run does no work twice; then their attempts' traits are inferred again.
    """
    ids = game_sessions_needing_extraction(game=game)
    extracted = 0
    for start in range(0, len(ids), REEXTRACT_BATCH):
        batch = ids[start : start + REEXTRACT_BATCH]
        extracted += metric_sets_extract(game_session_ids=batch).extracted
    attempt_ids = sorted(
        set(GameSession.objects.filter(pk__in=ids).values_list("attempt_id", flat=True))
    )
    traits_infer(attempt_ids=attempt_ids)
    trait_scores_announce(attempt_ids=attempt_ids)
    _after_traits(attempt_ids)
    return {"extracted": extracted, "attempts": len(attempt_ids)}
