"""Every game in the catalogue imports its SCIENCE.md columns, whole or not at all.

Each game keeps a small sample file in ``tests/data/sample.csv`` whose metrics its own
tests compute by hand; here the same file goes through ``import_trials`` and
``export_metrics`` so that a new game cannot join the catalogue without working
with both commands.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from pymetrics.assessments.models import Assessment, Candidate, GameSession
from pymetrics.games.registry import all_games, get_game
from pymetrics.games.trial_files import read_trial_file
from pymetrics.scoring.models import MetricSet

GAMES_DIR = Path(__file__).resolve().parents[2] / "games"
KEYS = [game.key for game in all_games()]


def _sample(key: str) -> Path:
    return GAMES_DIR / key / "tests" / "data" / "sample.csv"


def test_every_game_ships_a_sample_file() -> None:
    assert [key for key in KEYS if not _sample(key).is_file()] == []


@pytest.mark.parametrize("key", KEYS)
def test_the_sample_imports_with_the_extractor_s_metrics_and_exports(key, db, capsys) -> None:
    game = get_game(key)
    path = _sample(key)
    expected = game.extract(read_trial_file(path, game))

    call_command("import_trials", str(path), "--game", key)

    stored = {
        str(external_id): values
        for external_id, values in MetricSet.objects.values_list(
            "game_session__attempt__candidate__external_id", "values"
        )
    }
    participants = sorted(str(p) for p in expected.metrics.index)
    assert sorted(stored) == participants
    for participant in participants:
        assert stored[participant] == pytest.approx(expected.session_values(participant))
    assert set(GameSession.objects.values_list("state", "game")) == {("scored", key)}
    capsys.readouterr()

    call_command("export_metrics", "--org", "default", "--game", key)
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    exported = {(row["participant"], row["metric"]): float(row["value"]) for row in rows}
    assert exported == pytest.approx(
        {
            (participant, metric): value
            for participant in participants
            for metric, value in expected.session_values(participant).items()
        }
    )
    # Exported in the game's own metric order, participant by participant.
    order = [m.name for m in game.metrics]
    for participant in participants:
        names = [row["metric"] for row in rows if row["participant"] == participant]
        assert names == sorted(names, key=order.index)


@pytest.mark.parametrize("key", KEYS)
def test_a_bad_value_in_the_last_row_imports_nothing(key, tmp_path, db, capsys) -> None:
    game = get_game(key)
    lines = _sample(key).read_text().splitlines()
    header = [name.strip().lower() for name in lines[0].split(",")]
    column = next(c.name for c in game.csv_columns if c.required)
    cells = lines[-1].split(",")
    cells[header.index(column)] = "zzz"
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([*lines[:-1], ",".join(cells)]) + "\n")

    with pytest.raises(SystemExit) as exited:
        call_command("import_trials", str(bad), "--game", key)

    assert exited.value.code == 1
    error = capsys.readouterr().err
    assert error.startswith(f"{bad}:{len(lines)}: column {column}: "), error
    assert (Assessment.objects.count(), Candidate.objects.count(), MetricSet.objects.count()) == (
        0,
        0,
        0,
    )
