"""A candidate's data archive: everything held about them, as a zip of JSON files.

:func:`write_candidate_archive` writes the zip into an open binary file, one member
after another; events are streamed from the database in chunks into
``events.jsonl``, so memory stays flat however many the candidate produced. The
README that opens the archive says what each file holds. Personal data that is
encrypted at rest (name, e-mail, reported groups) is written decrypted: the
archive is for the candidate.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

import orjson
from django.db.models import Q
from django.utils import timezone

from pymetrics.accounts.models import AuditLog
from pymetrics.assessments.models import Attempt, Candidate, ConsentRecord, GameSession
from pymetrics.events.models import Event
from pymetrics.fitmodels.models import (
    CandidateGroups,
    CandidateOutcome,
    FitScore,
    Incumbent,
    SessionReview,
)
from pymetrics.scoring.models import MetricSet, TraitScore

#: Events read from the database per round trip while streaming events.jsonl.
EVENT_CHUNK = 2000
#: Version of the archive's layout, written into candidate.json.
ARCHIVE_FORMAT = 1

#: Told a fraction done (0..1) and what is being written.
ProgressCallback = Callable[[float, str], None]

README = """\
Your data held by {organization}
{underline}

This archive holds everything the assessment platform of {organization} stores
about you (candidate {candidate_id}), as it was on {made_at}. The files are
UTF-8 JSON (events.jsonl: one JSON object per line); times are in UTC (ISO 8601).

candidate.json        Who you are to the platform: your name and e-mail address
                      (stored encrypted, shown here in clear), the organisation's
                      own id for you (external_id), when you were added, when you
                      first gave consent, and whether you are a simulated
                      candidate (a test bot rather than a person).
attempts.json         Each assessment you were invited to: the invitation's state
                      and times, the adjustments you chose (accommodations), and
                      each game you played (its state, the seed and schedule of
                      the game, the browser it was played in).
events.jsonl          Every event recorded while you played: each key press,
                      click, tap and what the game showed, with its time in
                      milliseconds since the game started.
metrics.json          The measures computed from each game's events, with the
                      version of the computation (extractor_version) and any
                      quality flags (for example, the page lost focus).
traits.json           Your trait scores: where you sit between each trait's two
                      poles (z-score and percentile against a norm group, with
                      a 90% interval), with the versions behind every number
                      (trait map, norm table, extractor versions).
fit_scores.json       Scores of how closely your profile resembles the people in a
                      role (job-fit models), with the model version that made each.
reported_groups.json  The groups you reported (for example gender or age band),
                      used only to check models for adverse impact; null if none.
outcome.json          What the organisation recorded about the outcome (hired,
                      a later performance rating); null if nothing was recorded.
roles.json            Roles for which the organisation marked you as someone in
                      the role (an incumbent), used to train job-fit models.
consent_records.json  Each consent you gave: its purpose, the version and SHA-256
                      of the text you were shown, its language, when you gave it
                      and, if so, when you withdrew it.
session_reviews.json  Games an automatic check found unusual, and the verdict of
                      the person who reviewed them.
audit_log.json        Who at the organisation (or the platform itself) read or
                      changed your data, and when.

Not included: your invitation's secret link (only a one-way hash of it is kept),
and the names of the staff who acted (they appear as "staff member").
"""


@dataclass(frozen=True)
class ArchiveContents:
    """How many records went into each file (for the job's message and the tests)."""

    counts: dict[str, int]


def _json_bytes(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n"


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _candidate(candidate: Candidate, archive_id: int, made_at: datetime) -> dict[str, Any]:
    return {
        "format": ARCHIVE_FORMAT,
        "archive_id": archive_id,
        "made_at": _when(made_at),
        "organization": {
            "name": candidate.organization.name,
            "slug": candidate.organization.slug,
        },
        "candidate": {
            "id": candidate.pk,
            "external_id": candidate.external_id,
            "name": candidate.name,
            "email": candidate.email,
            "is_simulated": candidate.is_simulated,
            "created_at": _when(candidate.created_at),
            "consent_at": _when(candidate.consent_at),
        },
    }


def _game_session(session: GameSession) -> dict[str, Any]:
    return {
        "id": session.pk,
        "game": session.game,
        "position": session.position,
        "state": session.state,
        "source": session.source,
        "seed": session.seed,
        "config": session.config,
        "client_info": session.client_info,
        "acked_seq": session.acked_seq,
        "event_count": session.event_count,
        "scoring_error": session.scoring_error,
        "invalidated_at": _when(session.invalidated_at),
        "created_at": _when(session.created_at),
        "started_at": _when(session.started_at),
        "completed_at": _when(session.completed_at),
    }


def _attempts(attempts: list[Attempt], sessions: list[GameSession]) -> list[dict[str, Any]]:
    by_attempt: dict[int, list[dict[str, Any]]] = {}
    for session in sessions:
        by_attempt.setdefault(session.attempt_id, []).append(_game_session(session))
    return [
        {
            "id": attempt.pk,
            "assessment": {"id": attempt.assessment_id, "name": attempt.assessment.name},
            "state": attempt.state,
            "accommodations": attempt.accommodations,
            "invite_expires_at": _when(attempt.invite_expires_at),
            "created_at": _when(attempt.created_at),
            "started_at": _when(attempt.started_at),
            "completed_at": _when(attempt.completed_at),
            "game_sessions": by_attempt.get(attempt.pk, []),
        }
        for attempt in attempts
    ]


def _events(session_ids: list[int], games: dict[int, str]) -> Iterator[bytes]:
    rows = (
        Event.objects.filter(game_session_id__in=session_ids)
        .order_by("game_session_id", "seq")
        .values_list("game_session_id", "seq", "t", "type", "data", "received_at")
        .iterator(chunk_size=EVENT_CHUNK)
    )
    for session_id, seq, t, event_type, data, received_at in rows:
        yield (
            orjson.dumps(
                {
                    "game_session_id": session_id,
                    "game": games.get(session_id),
                    "seq": seq,
                    "t": t,
                    "type": event_type,
                    "data": data,
                    "received_at": _when(received_at),
                }
            )
            + b"\n"
        )


def _metrics(session_ids: list[int]) -> list[dict[str, Any]]:
    return [
        {
            "game_session_id": row.game_session_id,
            "game": row.game,
            "extractor_version": row.extractor_version,
            "values": row.values,
            "quality_flags": row.quality_flags,
            "computed_at": _when(row.computed_at),
        }
        for row in MetricSet.objects.filter(game_session_id__in=session_ids).order_by(
            "game_session_id", "extractor_version"
        )
    ]


def _traits(attempt_ids: list[int]) -> list[dict[str, Any]]:
    scores = (
        TraitScore.objects.filter(attempt_id__in=attempt_ids)
        .select_related("norm_table", "trait_map")
        .order_by("attempt_id", "trait", "pk")
    )
    return [
        {
            "attempt_id": score.attempt_id,
            "trait": score.trait,
            "scored": score.scored,
            "raw": score.raw,
            "z": score.z,
            "percentile": score.percentile,
            "z_low": score.z_low,
            "z_high": score.z_high,
            "percentile_low": score.percentile_low,
            "percentile_high": score.percentile_high,
            "reliability": score.reliability,
            "metrics_present": score.metrics_present,
            "metrics_total": score.metrics_total,
            "reason": score.reason,
            "quality_flags": score.quality_flags,
            "versions": {
                "trait_map": score.trait_map.version,
                "norm_table": {
                    "id": score.norm_table_id,
                    "name": score.norm_table.name,
                    "version": score.norm_table.version,
                    "population": score.norm_table.population,
                    "simulated": score.norm_table.is_simulated,
                },
                "extractors": score.extractor_versions,
            },
            "computed_at": _when(score.computed_at),
        }
        for score in scores
    ]


def _fit_scores(attempt_ids: list[int]) -> list[dict[str, Any]]:
    scores = (
        FitScore.objects.filter(attempt_id__in=attempt_ids)
        .select_related("model_version__job_profile")
        .order_by("attempt_id", "computed_at", "pk")
    )
    return [
        {
            "attempt_id": score.attempt_id,
            "role": score.model_version.job_profile.name,
            "model_version": score.model_version.version,
            "score": score.score,
            "passed": score.passed,
            "arm": score.arm or None,
            "computed_at": _when(score.computed_at),
        }
        for score in scores
    ]


def _groups(candidate: Candidate) -> dict[str, Any] | None:
    record = CandidateGroups.objects.filter(candidate=candidate).first()
    if record is None:
        return None
    return {"groups": json.loads(record.groups), "recorded_at": _when(record.recorded_at)}


def _outcome(candidate: Candidate) -> dict[str, Any] | None:
    outcome = CandidateOutcome.objects.filter(candidate=candidate).first()
    if outcome is None:
        return None
    return {
        "hired": outcome.hired,
        "performance": outcome.performance,
        "recorded_at": _when(outcome.recorded_at),
    }


def _roles(candidate: Candidate) -> list[dict[str, Any]]:
    return [
        {
            "role": incumbent.job_profile.name,
            "successful": incumbent.successful,
            "added_at": _when(incumbent.added_at),
        }
        for incumbent in Incumbent.objects.filter(candidate=candidate)
        .select_related("job_profile")
        .order_by("added_at", "pk")
    ]


def _consents(candidate: Candidate) -> list[dict[str, Any]]:
    return [
        {
            "attempt_id": record.attempt_id,
            "purpose": record.purpose,
            "channel": record.channel,
            "text_version": record.text_version,
            "text_sha256": record.text_sha256 or None,
            "language": record.language,
            "given_at": _when(record.given_at),
            "withdrawn_at": _when(record.withdrawn_at),
        }
        for record in ConsentRecord.objects.filter(candidate=candidate).order_by("given_at", "pk")
    ]


def _reviews(session_ids: list[int]) -> list[dict[str, Any]]:
    return [
        {
            "game_session_id": review.game_session_id,
            "game": review.game,
            "anomaly_score": review.anomaly_score,
            "reasons": review.reasons,
            "scan": review.assessment,
            "state": review.state,
            "note": review.note,
            "created_at": _when(review.created_at),
            "reviewed_at": _when(review.reviewed_at),
        }
        for review in SessionReview.objects.filter(game_session_id__in=session_ids).order_by(
            "created_at", "pk"
        )
    ]


def audit_entries_about(
    *, candidate_id: int, attempt_ids: Iterable[int], session_ids: Iterable[int]
) -> Q:
    """The audit-log entries whose object is the candidate, an attempt or a game session
    of theirs (what they, or erasure, are told about)."""
    return (
        Q(object_type="candidate", object_id=str(candidate_id))
        | Q(object_type="attempt", object_id__in=[str(i) for i in attempt_ids])
        | Q(object_type="gamesession", object_id__in=[str(i) for i in session_ids])
    )


def _audit_log(candidate: Candidate, attempt_ids: list[int], session_ids: list[int]) -> list[Any]:
    entries = AuditLog.objects.filter(
        audit_entries_about(
            candidate_id=candidate.pk, attempt_ids=attempt_ids, session_ids=session_ids
        ),
        organization_id=candidate.organization_id,
    ).order_by("at", "pk")
    return [
        {
            "at": _when(entry.at),
            "action": entry.action,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "by": "staff member" if entry.actor_id or entry.api_key_id else "the platform",
            "details": entry.details,
        }
        for entry in entries
    ]


def write_candidate_archive(
    *,
    candidate: Candidate,
    archive_id: int,
    target: IO[bytes],
    progress: ProgressCallback | None = None,
    now: datetime | None = None,
) -> ArchiveContents:
    """Write the candidate's archive as a zip into ``target``; the records per file."""
    made_at = now or timezone.now()
    report = progress or (lambda fraction, message: None)
    attempts = list(
        Attempt.objects.filter(candidate=candidate)
        .select_related("assessment")
        .order_by("created_at", "pk")
    )
    attempt_ids = [attempt.pk for attempt in attempts]
    sessions = list(
        GameSession.objects.filter(attempt_id__in=attempt_ids).order_by(
            "attempt_id", "position", "pk"
        )
    )
    session_ids = [session.pk for session in sessions]
    games = {session.pk: session.game for session in sessions}
    expected_events = max(1, sum(session.event_count for session in sessions))
    counts: dict[str, int] = {}

    with zipfile.ZipFile(target, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:

        def put(name: str, value: Any, records: int) -> None:
            archive.writestr(name, _json_bytes(value))
            counts[name] = records

        title = f"Your data held by {candidate.organization.name}"
        archive.writestr(
            "README.txt",
            README.format(
                organization=candidate.organization.name,
                underline="=" * len(title),
                candidate_id=candidate.pk,
                made_at=made_at.strftime("%Y-%m-%d %H:%M UTC"),
            ),
        )
        counts["README.txt"] = 1
        report(0.02, "candidate and attempts")
        put("candidate.json", _candidate(candidate, archive_id, made_at), 1)
        put("attempts.json", _attempts(attempts, sessions), len(attempts))
        written = 0
        with archive.open("events.jsonl", mode="w", force_zip64=True) as events_file:
            for line in _events(session_ids, games):
                events_file.write(line)
                written += 1
                if written % EVENT_CHUNK == 0:
                    report(0.05 + 0.8 * min(1.0, written / expected_events), "events")
        counts["events.jsonl"] = written
        report(0.86, "metrics, traits and scores")
        metrics = _metrics(session_ids)
        put("metrics.json", metrics, len(metrics))
        traits = _traits(attempt_ids)
        put("traits.json", traits, len(traits))
        fit = _fit_scores(attempt_ids)
        put("fit_scores.json", fit, len(fit))
        groups = _groups(candidate)
        put("reported_groups.json", groups, int(groups is not None))
        outcome = _outcome(candidate)
        put("outcome.json", outcome, int(outcome is not None))
        roles = _roles(candidate)
        put("roles.json", roles, len(roles))
        report(0.94, "consent, reviews and the audit log")
        consents = _consents(candidate)
        put("consent_records.json", consents, len(consents))
        reviews = _reviews(session_ids)
        put("session_reviews.json", reviews, len(reviews))
        audit = _audit_log(candidate, attempt_ids, session_ids)
        put("audit_log.json", audit, len(audit))
    report(1.0, "written")
    return ArchiveContents(counts=counts)
