"""Importing trial data made by other tools: one completed game session per participant.

All or nothing: the file is validated whole before anything is written, and the
writes happen in one transaction, so a failed import leaves no trace.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from django.db import transaction
from django.utils import timezone

from pymetrics.accounts.models import Organization
from pymetrics.accounts.services import Actor, audit_log_record
from pymetrics.assessments.models import (
    Attempt,
    AttemptState,
    Candidate,
    GameSession,
    GameSessionSource,
    GameSessionState,
)
from pymetrics.assessments.services import assessment_get_or_create
from pymetrics.common.errors import Conflict
from pymetrics.games.base import Game
from pymetrics.scoring.services import metric_sets_from_trials, traits_infer


@dataclass(frozen=True)
class ImportSummary:
    assessment_id: int
    participants: int
    trials: int


def trials_import(
    *,
    organization: Organization,
    assessment_name: str,
    game: Game,
    trials: pd.DataFrame,
    actor: Actor | None = None,
    source_name: str = "",
) -> ImportSummary:
    """Store validated trials (``session`` = participant id) and compute their metrics."""
    participants = list(dict.fromkeys(trials["session"].astype(str)))
    now = timezone.now()
    with transaction.atomic():
        assessment = assessment_get_or_create(
            organization=organization, name=assessment_name, games=[game.key]
        )
        existing = {
            c.external_id: c
            for c in Candidate.objects.filter(
                organization=organization, external_id__in=participants
            )
        }
        clashes = sorted(
            str(external_id)
            for external_id in Attempt.objects.filter(
                assessment=assessment, candidate__external_id__in=list(existing)
            ).values_list("candidate__external_id", flat=True)
        )
        if clashes:
            raise Conflict(
                f"participant {clashes[0]!r} already has an attempt in assessment "
                f"{assessment.name!r}; import into another assessment (--assessment)",
                details={"participants": clashes[:20]},
            )
        new_candidates = Candidate.objects.bulk_create(
            [
                Candidate(organization=organization, external_id=p, consent_at=None)
                for p in participants
                if p not in existing
            ],
            batch_size=1000,
        )
        candidates = {**existing, **{c.external_id: c for c in new_candidates}}
        attempts = Attempt.objects.bulk_create(
            [
                Attempt(
                    candidate=candidates[p],
                    assessment=assessment,
                    state=AttemptState.COMPLETED,
                    started_at=now,
                    completed_at=now,
                )
                for p in participants
            ],
            batch_size=1000,
        )
        position = assessment.games.index(game.key) + 1
        sessions = GameSession.objects.bulk_create(
            [
                GameSession(
                    attempt=attempt,
                    game=game.key,
                    position=position,
                    state=GameSessionState.COMPLETED,
                    source=GameSessionSource.IMPORT,
                    seed=0,
                    config={"imported_from": source_name},
                    started_at=now,
                    completed_at=now,
                )
                for attempt in attempts
            ],
            batch_size=1000,
        )
        session_of = {p: s.pk for p, s in zip(participants, sessions, strict=True)}
        keyed = trials.assign(session=trials["session"].astype(str).map(session_of).astype("int64"))
        metric_sets_from_trials(game=game, trials=keyed)
        # traits next, as after a browser session: one vectorised batch for the file
        traits_infer(attempt_ids=[attempt.pk for attempt in attempts])
        audit_log_record(
            actor=actor,
            organization=organization,
            action="trials.import",
            object_type="assessment",
            object_id=assessment.pk,
            details={"game": game.key, "participants": len(participants), "file": source_name},
        )
    return ImportSummary(
        assessment_id=assessment.pk,
        participants=len(participants),
        # Some games' tables hold more than one row per trial (finger tapping: a row per tap).
        trials=len(trials[["session", "trial"]].drop_duplicates()),
    )
