"""``simulate`` and ``seed_demo``: bots with known parameters through the whole pipeline.

These run with real commits (transactional_db): scoring is queued with
``transaction.on_commit``, and the commands read the scores back before they return.
"""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError

from pymetrics.accounts.models import Membership, User
from pymetrics.assessments.models import Assessment, Attempt, Candidate, GameSession
from pymetrics.events.models import Event
from pymetrics.games.registry import game_keys
from pymetrics.ops.management.commands.seed_demo import DEMO_ASSESSMENT, DEMO_EMAIL
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
    call_command("seed_demo", "--candidates", "3", "--norm-players", "30")
    first = capsys.readouterr().out

    # then the staff login is printed, and it works
    found = re.search(r"e-mail:\s+(\S+)\n\s+password:\s+(\S+)", first)
    assert found is not None, first
    assert found.group(1) == DEMO_EMAIL
    user = authenticate(username=DEMO_EMAIL, password=found.group(2))
    assert user is not None
    assert Membership.objects.get(user=user).role == "owner"

    # when it is run again
    call_command("seed_demo", "--candidates", "3", "--norm-players", "30")
    second = capsys.readouterr().out

    # then nothing is added and no password is shown
    assert "password:" not in second
    assert found.group(2) not in second
    assert f"Demo data ready. Staff login: {DEMO_EMAIL}" in second
    assert User.objects.count() == 1
    assessment = Assessment.objects.get(name=DEMO_ASSESSMENT)
    assert assessment.organization.slug == "demo"
    assert Attempt.objects.filter(assessment=assessment).count() == 3
    assert Candidate.objects.filter(is_simulated=True).count() == 3
    assert MetricSet.objects.count() == 3 * len(game_keys())  # every game of the battery
    # and their traits are scored against one shared, simulated reference population
    table = NormTable.objects.get()
    assert (table.organization, table.is_simulated, table.n_attempts) == (None, True, 30)
    assert TraitScore.objects.filter(norm_table=table).count() == 3 * 9
    assert "Building the simulated reference norms (30 bots per game)" in first
    assert "Building" not in second


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
