"""Reading trial files: every error names the row's own line in the file."""

from __future__ import annotations

import pytest

from pymetrics.games.registry import get_game
from pymetrics.games.trial_files import TrialFileError, read_trial_file

HEADER = "participant,trial,pumps,burst\n"


@pytest.mark.parametrize(
    ("body", "line"),
    [
        pytest.param("p1,1,3,0\np1,2,-1,0\n", 3, id="no-blank-line"),
        pytest.param("p1,1,3,0\n\np1,2,-1,0\n", 4, id="after-a-blank-line"),
        pytest.param("\n\np1,1,3,0\n   \n,,,\np1,2,-1,0\n", 7, id="after-blank-and-empty-rows"),
    ],
)
def test_an_error_names_the_line_in_the_file(tmp_path, body, line):
    path = tmp_path / "t.csv"
    path.write_text(HEADER + body)

    with pytest.raises(TrialFileError) as raised:
        read_trial_file(path, get_game("balloons"))

    assert str(raised.value) == f"{path}:{line}: column pumps: expected an integer >= 0, got '-1'"


def test_blank_lines_and_empty_rows_are_skipped(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(HEADER + "p1,1,3,0\n\n,,,\np1,2,4,1\n\n")

    trials = read_trial_file(path, get_game("balloons"))

    assert trials.to_dict("list") == {
        "session": ["p1", "p1"],
        "trial": [1, 2],
        "pumps": [3, 4],
        "burst": [0, 1],
    }


def test_a_header_with_only_blank_lines_has_no_data_rows(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(HEADER + "\n\n")

    with pytest.raises(TrialFileError) as raised:
        read_trial_file(path, get_game("balloons"))

    assert str(raised.value) == f"{path}:2: the file has a header but no data rows"
