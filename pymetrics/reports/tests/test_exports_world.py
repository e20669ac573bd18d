"""A small world for the export tests, with every exported row written out by hand.

Acme (the ``organization`` fixture) has two assessments and three candidates:

- ``P-001`` (real), completed Graduates 2027 on 2026-03-10: a balloons session with
  two metric sets (extractor versions 1 and 2: only the newest is exported) and an
  arrows session (with a metric the game does not declare, exported last); two
  scored traits and one unscored under the current norm table, and one under an
  older table (neither exported); fit scores of two versions of a role; 5 events.
- the simulated candidate (no external id: its participant is its candidate id),
  completed Graduates 2027 on 2026-03-20: one balloons metric set, one trait, one
  fit score, 2 events.
- ``P-003`` (real), started Interns 2027: an interrupted (superseded) balloons
  session and its restart, 1 event each; nothing scored.

Globex (``other_organization``) has a candidate with data of every kind, which no
export of Acme may contain. ``EXPECTED`` holds Acme's rows of each dataset, in
export order, as every format must read back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymetrics.accounts.models import Organization
from pymetrics.assessments.models import (
    Assessment,
    Attempt,
    AttemptState,
    Candidate,
    GameSession,
    GameSessionState,
)
from pymetrics.events.models import Event
from pymetrics.fitmodels.models import FitModelVersion, FitScore, JobProfile, ModelStatus
from pymetrics.scoring.models import MetricSet, NormPopulation, NormTable, TraitScore
from pymetrics.scoring.services import trait_map_version_get_or_create

MARCH_10 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
MARCH_20 = datetime(2026, 3, 20, 23, 30, tzinfo=UTC)
RECEIVED = datetime(2026, 3, 10, 12, 0, 1, 250000, tzinfo=UTC)
SCORED = datetime(2026, 3, 11, 8, 15, tzinfo=UTC)


@dataclass(frozen=True)
class ExportWorld:
    graduates: Assessment
    interns: Assessment
    real: Candidate
    simulated: Candidate
    started: Candidate
    foreign: Candidate
    norm_table: NormTable

    @property
    def simulated_participant(self) -> str:
        return str(self.simulated.pk)


def _attempt(candidate: Candidate, assessment: Assessment, state: str, **times: Any) -> Attempt:
    return Attempt.objects.create(candidate=candidate, assessment=assessment, state=state, **times)


def _session(attempt: Attempt, game: str, position: int, state: str) -> GameSession:
    return GameSession.objects.create(
        attempt=attempt, game=game, position=position, seed=position, state=state
    )


def _events(session: GameSession, *events: tuple[int, float, str, dict[str, Any]]) -> None:
    Event.objects.bulk_create(
        Event(game_session=session, seq=seq, t=t, type=kind, data=data, received_at=RECEIVED)
        for seq, t, kind, data in events
    )


def _trait(attempt: Attempt, table: NormTable, trait: str, **numbers: Any) -> TraitScore:
    return TraitScore.objects.create(
        attempt=attempt,
        trait=trait,
        norm_table=table,
        trait_map=table.trait_map,
        metrics_present=2,
        metrics_total=2,
        reliability=0.7,
        **numbers,
    )


def _scored(z: float, pct: float, low: float, high: float, pl: float, ph: float) -> dict:
    return {
        "scored": True,
        "raw": z,
        "z": z,
        "percentile": pct,
        "z_low": low,
        "z_high": high,
        "percentile_low": pl,
        "percentile_high": ph,
    }


def _version(profile: JobProfile, version: int, status: str, threshold: float) -> FitModelVersion:
    return FitModelVersion.objects.create(
        job_profile=profile,
        version=version,
        algorithm="logistic_regression",
        status=status,
        feature_names=["trait:attention"],
        artefact=b"",
        fingerprint="0" * 64,
        n_successful=40,
        n_baseline=80,
        threshold=threshold,
        cv_report={"auc": 0.7},
        feature_weights={},
    )


def _norm_table(organization: Organization, name: str, version: int) -> NormTable:
    return NormTable.objects.create(
        organization=organization,
        name=name,
        version=version,
        population=NormPopulation.ORGANISATION,
        trait_map=trait_map_version_get_or_create(version=1),
        n_attempts=100,
        data={},
    )


def build_export_world(organization: Organization, other: Organization) -> ExportWorld:
    graduates = Assessment.objects.create(
        organization=organization, name="Graduates 2027", games=["balloons", "arrows"]
    )
    interns = Assessment.objects.create(
        organization=organization, name="Interns 2027", games=["balloons"]
    )
    old_table = _norm_table(organization, "Acme norms", 1)
    table = _norm_table(organization, "Acme norms", 2)
    profile = JobProfile.objects.create(organization=organization, name="Data analyst")
    active = _version(profile, 1, ModelStatus.ACTIVE, 50.0)
    retired = _version(profile, 2, ModelStatus.RETIRED, 60.0)

    # P-001: real, completed on 10 March
    real = Candidate.objects.create(
        organization=organization, external_id="P-001", name="Ada Lovelace", email="ada@x.org"
    )
    attempt = _attempt(
        real, graduates, AttemptState.COMPLETED, started_at=MARCH_10, completed_at=MARCH_10
    )
    balloons = _session(attempt, "balloons", 1, GameSessionState.SCORED)
    arrows = _session(attempt, "arrows", 2, GameSessionState.SCORED)
    MetricSet.objects.create(
        game_session=balloons,
        game="balloons",
        extractor_version=1,
        values={"adjusted_pumps": 10.0, "mean_pumps": 8.0},
    )
    MetricSet.objects.create(
        game_session=balloons,
        game="balloons",
        extractor_version=2,
        values={"bursts": 3, "mean_pumps": 9.25, "adjusted_pumps": 12.5},
    )
    MetricSet.objects.create(
        game_session=arrows,
        game="arrows",
        extractor_version=1,
        values={"legacy_index": 2.0, "rt_mean_ms": 431.5, "accuracy": 0.95},
    )
    _trait(attempt, table, "attention", **_scored(0.5, 69.1, -0.2, 1.2, 42.1, 88.5))
    _trait(attempt, table, "risk_tolerance", **_scored(-1.25, 10.6, -1.9, -0.6, 2.9, 27.4))
    _trait(attempt, table, "focus", scored=False, reason="too few metrics")
    _trait(attempt, old_table, "attention", **_scored(0.1, 54.0, -0.6, 0.8, 27.4, 78.8))
    FitScore.objects.create(
        attempt=attempt, model_version=active, score=71.25, passed=True, computed_at=SCORED
    )
    FitScore.objects.create(
        attempt=attempt,
        model_version=retired,
        score=40.0,
        passed=False,
        arm="B",
        computed_at=SCORED,
    )
    _events(
        balloons,
        (1, 0.0, "balloon_start", {"balloon": 1}),
        (2, 350.5, "pump", {"balloon": 1, "pumps": 1}),
        (3, 990.25, "collect", {"balloon": 1, "pumps": 1}),
    )
    _events(
        arrows,
        (1, 0.0, "trial_start", {"trial": 1, "congruent": True}),
        (2, 512.75, "response", {"trial": 1, "key": "left", "note": "é=1"}),
    )

    # the simulated candidate: no external id, completed on 20 March
    simulated = Candidate.objects.create(organization=organization, is_simulated=True)
    attempt = _attempt(simulated, graduates, AttemptState.COMPLETED, completed_at=MARCH_20)
    balloons = _session(attempt, "balloons", 1, GameSessionState.SCORED)
    MetricSet.objects.create(
        game_session=balloons, game="balloons", extractor_version=2, values={"adjusted_pumps": 5}
    )
    _trait(attempt, table, "attention", **_scored(-0.75, 22.7, -1.4, -0.1, 8.1, 46.0))
    FitScore.objects.create(
        attempt=attempt, model_version=active, score=33.5, passed=False, computed_at=SCORED
    )
    _events(
        balloons,
        (1, 0.0, "balloon_start", {"balloon": 1}),
        (2, 120.0, "collect", {"balloon": 1, "pumps": 0}),
    )

    # P-003: started the interns' battery, restarted the interrupted game
    started = Candidate.objects.create(
        organization=organization, external_id="P-003", name="Cy Started", email="cy@x.org"
    )
    attempt = _attempt(started, interns, AttemptState.STARTED, started_at=MARCH_20)
    interrupted = _session(attempt, "balloons", 1, GameSessionState.SUPERSEDED)
    restarted = _session(attempt, "balloons", 1, GameSessionState.IN_PROGRESS)
    _events(interrupted, (1, 0.0, "balloon_start", {"balloon": 1}))
    _events(restarted, (1, 5.5, "balloon_start", {"balloon": 1}))

    # Globex: one candidate with everything, never in Acme's exports
    foreign_assessment = Assessment.objects.create(
        organization=other, name="Globex battery", games=["balloons"]
    )
    foreign = Candidate.objects.create(organization=other, external_id="G-1", name="Gus")
    attempt = _attempt(foreign, foreign_assessment, AttemptState.COMPLETED, completed_at=MARCH_10)
    session = _session(attempt, "balloons", 1, GameSessionState.SCORED)
    MetricSet.objects.create(
        game_session=session, game="balloons", extractor_version=2, values={"adjusted_pumps": 99}
    )
    foreign_table = _norm_table(other, "Globex norms", 1)
    _trait(attempt, foreign_table, "attention", **_scored(2.0, 97.7, 1.3, 2.7, 90.3, 99.6))
    foreign_profile = JobProfile.objects.create(organization=other, name="Globex role")
    FitScore.objects.create(
        attempt=attempt,
        model_version=_version(foreign_profile, 1, ModelStatus.ACTIVE, 50.0),
        score=99.0,
        passed=True,
        computed_at=SCORED,
    )
    _events(session, (1, 0.0, "balloon_start", {"balloon": 1}))
    return ExportWorld(
        graduates=graduates,
        interns=interns,
        real=real,
        simulated=simulated,
        started=started,
        foreign=foreign,
        norm_table=table,
    )


def expected_rows(world: ExportWorld, dataset: str) -> list[tuple[Any, ...]]:
    """Acme's rows of ``dataset`` with no filter, in export order, typed as written."""
    sim = world.simulated_participant
    g, i = "Graduates 2027", "Interns 2027"
    real_sessions = list(
        GameSession.objects.filter(attempt__candidate=world.real).order_by("position")
    )
    sim_session = GameSession.objects.get(attempt__candidate=world.simulated)
    started_sessions = list(
        GameSession.objects.filter(attempt__candidate=world.started).order_by("pk")
    )
    balloons, arrows = real_sessions[0].pk, real_sessions[1].pk
    if dataset == "metrics":
        return [
            ("P-001", "balloons", "adjusted_pumps", 12.5, 2, balloons, g, False),
            ("P-001", "balloons", "mean_pumps", 9.25, 2, balloons, g, False),
            ("P-001", "balloons", "bursts", 3.0, 2, balloons, g, False),
            ("P-001", "arrows", "accuracy", 0.95, 1, arrows, g, False),
            ("P-001", "arrows", "rt_mean_ms", 431.5, 1, arrows, g, False),
            ("P-001", "arrows", "legacy_index", 2.0, 1, arrows, g, False),
            (sim, "balloons", "adjusted_pumps", 5.0, 2, sim_session.pk, g, True),
        ]
    if dataset == "traits":
        table = "Acme norms v2"
        return [
            ("P-001", "attention", 0.5, 69.1, -0.2, 1.2, 42.1, 88.5, table, 1, g, False),
            ("P-001", "risk_tolerance", -1.25, 10.6, -1.9, -0.6, 2.9, 27.4, table, 1, g, False),
            (sim, "attention", -0.75, 22.7, -1.4, -0.1, 8.1, 46.0, table, 1, g, True),
        ]
    if dataset == "fit_scores":
        return [
            ("P-001", "Data analyst", 1, 71.25, True, None, SCORED, "active", 50.0, g, False),
            ("P-001", "Data analyst", 2, 40.0, False, "B", SCORED, "retired", 60.0, g, False),
            (sim, "Data analyst", 1, 33.5, False, None, SCORED, "active", 50.0, g, True),
        ]
    assert dataset == "events"
    b, a = "balloons", "arrows"
    first, second = started_sessions[0].pk, started_sessions[1].pk

    def event(who, game, session, seq, t, kind, data, state, assessment, simulated):
        return (who, game, session, seq, t, kind, data, RECEIVED, state, assessment, simulated)

    return [
        event("P-001", b, balloons, 1, 0.0, "balloon_start", {"balloon": 1}, "scored", g, False),
        event(
            "P-001", b, balloons, 2, 350.5, "pump", {"balloon": 1, "pumps": 1}, "scored", g, False
        ),
        event(
            "P-001",
            b,
            balloons,
            3,
            990.25,
            "collect",
            {"balloon": 1, "pumps": 1},
            "scored",
            g,
            False,
        ),
        event(
            "P-001",
            a,
            arrows,
            1,
            0.0,
            "trial_start",
            {"trial": 1, "congruent": True},
            "scored",
            g,
            False,
        ),
        event(
            "P-001",
            a,
            arrows,
            2,
            512.75,
            "response",
            {"trial": 1, "key": "left", "note": "é=1"},
            "scored",
            g,
            False,
        ),
        event(sim, b, sim_session.pk, 1, 0.0, "balloon_start", {"balloon": 1}, "scored", g, True),
        event(
            sim,
            b,
            sim_session.pk,
            2,
            120.0,
            "collect",
            {"balloon": 1, "pumps": 0},
            "scored",
            g,
            True,
        ),
        event("P-003", b, first, 1, 0.0, "balloon_start", {"balloon": 1}, "superseded", i, False),
        event("P-003", b, second, 1, 5.5, "balloon_start", {"balloon": 1}, "in_progress", i, False),
    ]


# --- reading an export back ------------------------------------------------------------------


def _typed(kind: str, text: str) -> Any:
    """A CSV cell back to the value it was written from (empty = missing)."""
    import json

    if text == "":
        return None
    readers: dict[str, Any] = {
        "text": str,
        "int": int,
        "float": float,
        "bool": {"true": True, "false": False}.__getitem__,
        "datetime": datetime.fromisoformat,
        "json": json.loads,
    }
    return readers[kind](text)


def read_export(path: str, file_format: str, columns: Any) -> tuple[list[str], list[tuple]]:
    """The header and the rows of an export file, each value typed as its column's kind.

    Read with the tools an analyst would use: the csv module, openpyxl, json and
    pyarrow.
    """
    import csv
    import json

    kinds = [column.kind for column in columns]
    header: list[str] = [column.name for column in columns]
    if file_format == "csv":
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            return header, [
                tuple(_typed(kind, cell) for kind, cell in zip(kinds, row, strict=True))
                for row in reader
            ]
    if file_format == "jsonl":
        rows = []
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                assert list(record) == header
                rows.append(
                    tuple(
                        datetime.fromisoformat(value) if kind == "datetime" and value else value
                        for kind, value in zip(kinds, record.values(), strict=True)
                    )
                )
        return header, rows
    if file_format == "xlsx":
        from openpyxl import load_workbook

        typed = [(index, kind) for index, kind in enumerate(kinds) if kind in ("datetime", "json")]
        workbook = load_workbook(path, read_only=True)
        rows = []
        for sheet in workbook.worksheets:
            values = sheet.iter_rows(values_only=True)
            header = [str(name) for name in next(values)]
            for row in values:
                if typed:
                    cells = list(row)
                    for index, kind in typed:
                        if cells[index] is not None:
                            cells[index] = (
                                cells[index].replace(tzinfo=UTC)
                                if kind == "datetime"
                                else json.loads(cells[index])
                            )
                    row = tuple(cells)
                rows.append(row)
        workbook.close()
        return header, rows
    assert file_format == "parquet"
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    return table.column_names, [
        tuple(
            json.loads(value) if kind == "json" and value is not None else value
            for kind, value in zip(kinds, record.values(), strict=True)
        )
        for record in table.to_pylist()
    ]
