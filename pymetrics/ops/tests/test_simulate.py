"""``simulate`` and ``seed_demo``: bots with known parameters through the whole pipeline.

These run with real commits (transactional_db): scoring is queued with
``transaction.on_commit``, and the commands read the scores back before they return.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory
from django.utils import timezone

from pymetrics.accounts.models import Membership, User
from pymetrics.assessments.models import (
    Assessment,
    Attempt,
    AttemptState,
    Candidate,
    GameSession,
    GameSessionState,
)
from pymetrics.events.models import Event
from pymetrics.games.registry import game_keys
from pymetrics.ops.management.commands.seed_demo import DEMO_ASSESSMENT, DEMO_EMAIL
from pymetrics.ops.simulation import History, plan_history, simulate_candidates, weekly_volume
from pymetrics.scoring.models import MetricSet, NormTable, TraitScore

pytestmark = pytest.mark.django_db(transaction=True)


def test_simulate_reports_that_adjusted_pumps_recovers_risk_propensity(tmp_path, capsys):
    # when 12 simulated candidates play balloons
    report_path = tmp_path / "recovery.json"
    call_command(
        "simulate",
        "--candidates",
        "12",
        "--games",
        "balloons",
        "--seed",
        "3",
        "--report",
        str(report_path),
        "--norm-players",
        "40",
    )

    # then the report says adjusted pumps recovers the bots' target pumps
    report = json.loads(report_path.read_text())
    assert report["candidates"] == 12
    assert (report["seed"], report["games"], report["simulated"]) == (3, ["balloons"], True)
    assert len(report["recovery"]) == 1 + 9  # the metric, then every trait
    recovery = report["recovery"][0]
    assert {key: recovery[key] for key in ("game", "latent", "measure", "n")} == {
        "game": "balloons",
        "latent": "target_pumps",
        "measure": "adjusted_pumps",
        "n": 12,
    }
    assert 0.8 < recovery["spearman"] <= 1.0
    out = capsys.readouterr().out
    assert f"spearman={recovery['spearman']} (n=12)" in out
    assert f"report written to {report_path}" in out
    # and every simulated candidate went through ingestion and scoring, marked as simulated
    assert Candidate.objects.count() == 12
    assert Candidate.objects.filter(is_simulated=True).count() == 12
    assert set(GameSession.objects.values_list("source", "state")) == {("simulated", "scored")}
    assert set(Attempt.objects.values_list("state", flat=True)) == {"completed"}
    assert MetricSet.objects.count() == 12
    # and risk tolerance, the one trait balloons alone can score (1 of its 2 metrics),
    # is recovered too, against simulated norms built for the simulation
    risk = report["recovery"][-1]
    assert (risk["measure"], risk["latent"], risk["n"]) == (
        "trait:risk_tolerance",
        "balloons.target_pumps",
        12,
    )
    assert 0.7 < risk["spearman"] <= 1.0
    assert report["norm_table"] == {"name": "Simulation reference", "version": 1, "simulated": True}
    retest = {t["trait"]: t for t in report["test_retest"]}
    assert list(retest) == [
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
    assert retest["risk_tolerance"]["n"] == 12
    assert 0.5 < retest["risk_tolerance"]["r"] <= 1.0
    assert retest["attention"] == {"trait": "attention", "r": None, "n": 0}
    acked = sum(GameSession.objects.values_list("acked_seq", flat=True))
    assert Event.objects.count() == acked > 12 * 30 * 2


def test_simulate_with_the_same_seed_plays_the_same_bots(tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"

    call_command(
        "simulate",
        "--candidates",
        "4",
        "--seed",
        "9",
        "--report",
        str(first),
        "--org",
        "a",
        "--norm-players",
        "20",
    )
    call_command(
        "simulate",
        "--candidates",
        "4",
        "--seed",
        "9",
        "--report",
        str(second),
        "--org",
        "b",
        "--norm-players",
        "20",
    )

    # then both runs played the same schedules, scored the same and report the same
    def run(slug: str) -> list[tuple[str | None, int, dict]]:
        return sorted(
            GameSession.objects.filter(attempt__candidate__organization__slug=slug).values_list(
                "attempt__candidate__external_id", "seed", "metric_sets__values"
            )
        )

    assert run("a") == run("b")
    # one seed per game session: every game of every candidate has its own schedule
    assert len({seed for _, seed, _ in run("a")}) == 4 * len(game_keys())
    recovery = [json.loads(path.read_text())["recovery"] for path in (first, second)]
    assert recovery[0] == recovery[1]
    assert recovery[0][0]["n"] == 4


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param(["--candidates", "0"], "--candidates must be at least 1", id="no-candidates"),
        pytest.param(
            ["--candidates", "2", "--games", "balloons,chess"],
            "unknown game 'chess'; known games: "
            "balloons, cards, stop, arrows, digits, keypresses, easy_or_hard, lengths, tower, "
            "faces, money_exchange_1, money_exchange_2",
            id="unknown-game",
        ),
    ],
)
def test_simulate_refuses_bad_arguments(arguments, message):
    with pytest.raises(CommandError) as raised:
        call_command("simulate", *arguments)

    assert str(raised.value) == message
    assert Candidate.objects.count() == 0


def test_seed_demo_is_idempotent_and_prints_the_login_once(capsys):
    # when the demo is seeded on a fresh database
    call_command("seed_demo", "--candidates", "8", "--norm-players", "30")
    first = capsys.readouterr().out

    # then the staff login is printed, and it works
    found = re.search(r"e-mail:\s+(\S+)\n\s+password:\s+(\S+)", first)
    assert found is not None, first
    assert found.group(1) == DEMO_EMAIL
    # (the request: django-axes counts failures per e-mail and IP address)
    user = authenticate(
        RequestFactory().post("/staff/login/"), username=DEMO_EMAIL, password=found.group(2)
    )
    assert user is not None
    assert Membership.objects.get(user=user).role == "owner"
    assert "Simulating 8 candidates over the past 12 weeks" in first

    # when it is run again
    call_command("seed_demo", "--candidates", "8", "--norm-players", "30")
    second = capsys.readouterr().out

    # then nothing is added and no password is shown
    assert "password:" not in second
    assert found.group(2) not in second
    assert f"Demo data ready. Staff login: {DEMO_EMAIL}" in second
    assert User.objects.count() == 1
    assessment = Assessment.objects.get(name=DEMO_ASSESSMENT)
    assert assessment.organization.slug == "demo"
    assert Attempt.objects.filter(assessment=assessment).count() == 8
    assert Candidate.objects.filter(is_simulated=True).count() == 8
    # a funnel: everyone started played at least one game, scored; the others were only
    # invited; whoever finished has every game of the battery scored
    played = Attempt.objects.filter(game_sessions__metric_sets__isnull=False).distinct()
    finished = Attempt.objects.filter(state=AttemptState.COMPLETED)
    assert finished.count() >= 4
    assert not GameSession.objects.filter(state=GameSessionState.COMPLETED).exists()
    for attempt in finished:
        assert attempt.game_sessions.filter(state=GameSessionState.SCORED).count() == len(
            game_keys()
        )
    assert MetricSet.objects.count() == GameSession.objects.filter(state="scored").count()
    # and their traits are scored against one shared, simulated reference population,
    # dated before the first invitation
    table = NormTable.objects.get()
    assert (table.organization, table.is_simulated, table.n_attempts) == (None, True, 30)
    assert TraitScore.objects.filter(norm_table=table).count() == played.count() * 9
    first_invited = Attempt.objects.order_by("created_at").first()
    assert first_invited is not None
    assert table.created_at < first_invited.created_at
    assert "Building the simulated reference norms (30 bots per game)" in first
    assert "Building" not in second


def test_seed_demo_leaves_invited_only_and_stopped_candidates_over_12_weeks():
    call_command("seed_demo", "--candidates", "16", "--norm-players", "30")

    attempts = Attempt.objects.all()
    states = Counter(attempts.values_list("state", flat=True))
    # seeded: about 10% only invited (some long enough ago to have expired), 12% stopped
    assert states[AttemptState.COMPLETED] >= 8
    assert states[AttemptState.STARTED] >= 1
    assert states[AttemptState.INVITED] + states[AttemptState.EXPIRED] >= 2
    stopped = attempts.filter(state=AttemptState.STARTED)
    for attempt in stopped:
        sessions = list(attempt.game_sessions.order_by("position"))
        scored = [s for s in sessions if s.state == GameSessionState.SCORED]
        pending = [s for s in sessions if s.state == GameSessionState.PENDING]
        # the first games played, the rest left pending, never started
        assert scored
        assert pending
        assert sessions == scored + pending
        assert all(s.started_at is None and s.completed_at is None for s in pending)
    for attempt in attempts.filter(state__in=[AttemptState.INVITED, AttemptState.EXPIRED]):
        assert not attempt.game_sessions.exists()
        assert attempt.started_at is None
        assert attempt.invite_expires_at is not None
        expired = attempt.invite_expires_at < timezone.now()
        assert attempt.state == (AttemptState.EXPIRED if expired else AttemptState.INVITED)
    # spread over the past 12 weeks, not all "now"
    now = timezone.now()
    created = sorted(attempts.values_list("created_at", flat=True))
    assert now - timedelta(weeks=12) <= created[0]
    assert created[-1] < now
    finished = attempts.filter(state=AttemptState.COMPLETED).values_list("completed_at", flat=True)
    weeks = {moment.isocalendar()[:2] for moment in finished if moment is not None}
    assert len(weeks) >= 5


def test_a_simulated_history_is_dated_consistently(organization):
    assessment = Assessment.objects.create(
        organization=organization, name="History", games=["tower", "faces"]
    )
    now = timezone.now()

    simulated = simulate_candidates(
        organization=organization,
        assessment=assessment,
        count=8,
        seed=11,
        history=History(weeks=6, invited_only=0.25, stopped=0.25, now=now),
    )

    assert len(simulated) == 8
    attempts = list(Attempt.objects.filter(assessment=assessment).select_related("candidate"))
    assert {a.state for a in attempts} <= {"invited", "started", "completed"}
    assert any(a.state == "completed" for a in attempts)
    for attempt in attempts:
        # the candidate was created when invited; the invitation lasts its usual 30 days
        assert attempt.candidate.created_at == attempt.created_at
        assert now - timedelta(weeks=6) <= attempt.created_at < now
        assert attempt.invite_expires_at == attempt.created_at + timedelta(days=30)
        if attempt.started_at is None:
            assert attempt.candidate.consent_at is None
            continue
        consent_at = attempt.candidate.consent_at
        assert consent_at is not None
        assert attempt.created_at < consent_at < attempt.started_at
        clock = attempt.started_at
        for session in attempt.game_sessions.order_by("position"):
            assert session.created_at == attempt.started_at
            if session.state == GameSessionState.PENDING:
                assert session.started_at is None
                continue
            # games follow each other, each ending after it began, all before now
            assert session.started_at is not None
            assert session.completed_at is not None
            assert clock <= session.started_at < session.completed_at < now
            clock = session.completed_at
            arrivals = Event.objects.filter(game_session=session).order_by("seq")
            first, last = arrivals.first(), arrivals.last()
            assert first is not None
            assert last is not None
            assert first.received_at == session.started_at + timedelta(milliseconds=first.t)
            assert session.started_at <= last.received_at < session.completed_at
            metric_set = session.metric_sets.get()
            assert metric_set.computed_at == session.completed_at + timedelta(seconds=2)
        if attempt.state == "completed":
            assert attempt.completed_at == clock
        else:
            assert attempt.completed_at is None


def test_a_history_plan_is_seeded_and_follows_working_weeks():
    now = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)
    history = History(weeks=12, invited_only=0.1, stopped=0.12, now=now)

    plans = plan_history(300, history, np.random.default_rng(1), now=now, games=12)
    again = plan_history(300, history, np.random.default_rng(1), now=now, games=12)

    assert plans == again
    assert len(plans) == 300
    invited = [plan.invited_at for plan in plans]
    assert invited == sorted(invited)
    assert now - timedelta(weeks=12) <= invited[0]
    assert invited[-1] <= now - timedelta(minutes=10)
    weekdays = Counter(moment.weekday() for moment in invited)
    assert weekdays[5] + weekdays[6] < 0.15 * 300  # a quiet weekend
    # the funnel: about 10% never start (more: recent invitations not started yet),
    # about 12% stop after 1 to 11 of the 12 games
    never = [p for p in plans if p.started_at is None]
    stopped = [p for p in plans if p.games_played is not None]
    assert 0.08 * 300 <= len(never) <= 0.2 * 300
    assert 0.07 * 300 <= len(stopped) <= 0.17 * 300
    assert {p.games_played for p in stopped} <= set(range(1, 12))
    for plan in plans:
        if plan.started_at is not None:
            assert plan.started_at >= plan.invited_at + timedelta(minutes=5)
            assert plan.started_at + timedelta(hours=3) <= now
    # a growing programme: the second half of the period has more invitations
    half = now - timedelta(weeks=6)
    assert sum(moment >= half for moment in invited) > sum(moment < half for moment in invited)


def test_weekly_volume_adds_up_to_the_candidates():
    volume = weekly_volume(12, 300, np.random.default_rng(3))

    assert len(volume) == 12
    assert volume.sum() == 300
    assert weekly_volume(1, 5, np.random.default_rng(3)).tolist() == [5]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param({"weeks": 0}, "at least 1 week", id="no-weeks"),
        pytest.param(
            {"weeks": 2, "invited_only": 0.7, "stopped": 0.5}, "at most 1", id="shares-above-1"
        ),
        pytest.param({"weeks": 2, "stopped": -0.1}, "at most 1", id="negative-share"),
    ],
)
def test_a_history_refuses_impossible_settings(arguments, message):
    with pytest.raises(ValueError, match=message):
        History(**arguments)


def test_recovery_measure_reads_the_expected_direction() -> None:
    from pymetrics.ops.simulation import recovery_measure

    assert recovery_measure("adjusted_pumps") == ("adjusted_pumps", 1.0)
    assert recovery_measure("-hard_choice_rate") == ("hard_choice_rate", -1.0)


def test_simulate_recovers_each_expressions_sensitivity_through_augmented_subscores(tmp_path):
    """Faces' per-expression sensitivities are recovered across the simulated group.

    Each row's measure is the expression's accuracy augmented by the overall accuracy
    (pymetrics.psychometrics.subscores), computed over the 60 candidates played here.
    """
    report_path = tmp_path / "recovery.json"
    call_command(
        "simulate",
        *("--candidates", "60", "--games", "faces", "--seed", "5"),
        *("--report", str(report_path), "--norm-players", "40"),
    )

    report = json.loads(report_path.read_text())
    rows = {
        row["latent"]: row
        for row in report["recovery"]
        if row["game"] == "faces" and not row["measure"].startswith("trait:")
    }
    emotions = ["happy", "sad", "angry", "fearful", "surprised", "disgusted", "neutral"]
    assert list(rows) == ["sensitivity", "rt_median_ms", *(f"sensitivity_{e}" for e in emotions)]
    for emotion in emotions:
        row = rows[f"sensitivity_{emotion}"]
        assert row["measure"] == f"accuracy_{emotion} augmented by accuracy"
        assert row["n"] == 60
        assert 0.7 <= row["spearman"] <= 1.0, row
