"""Property tests of ``import_trials`` against hostile files (DESIGN.md 4.2).

Whatever the file holds (random bytes, a BOM, another encoding, quotes, embedded
newlines, huge or formula-like cells), the command either imports every row or
exits with status 1 and one line ``PATH[:LINE]: [column C: ]reason``, leaving
nothing in the database.
"""

from __future__ import annotations

import itertools
import re
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given
from hypothesis import event as label
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from pymetrics.assessments.models import Assessment, Attempt, Candidate, GameSession
from pymetrics.scoring.models import MetricSet

#: ``PATH:LINE: column C: reason`` (LINE and column when known), on one line
_ERROR = re.compile(
    r"(?P<path>[^\n]+?\.csv)(?::(?P<line>[0-9]+))?: (?:column (?P<column>[^:\n]+): )?"
    r"(?P<reason>[^\n]+)\n"
)
_HEADER = ["participant", "trial", "pumps", "burst"]

_CELL = st.one_of(
    st.integers(min_value=-3, max_value=60).map(str),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "1",
            "1.0",
            "1e3",
            "-0",
            "NaN",
            "inf",
            "=cmd|' /C calc'!A0",
            "+1",
            "@SUM(A1)",
            '"quoted, with comma"',
            '"embedded\nnewline"',
            '"unclosed',
            "x" * 5000,
            "9" * 40,
            "\x00",
            "é",
            "\ufeff",
            "\u2028",
        ]
    ),
    st.text(max_size=6),
)


@st.composite
def _table_text(draw: st.DrawFn) -> str:
    """A trial table: the right header (sometimes changed) and rows of mostly valid cells."""
    header = list(_HEADER)
    if draw(st.integers(min_value=0, max_value=5)) == 0:
        header = draw(st.permutations(header))
    if draw(st.integers(min_value=0, max_value=7)) == 0:
        header[draw(st.integers(0, 3))] = draw(_CELL)
    if draw(st.booleans()):
        header.append(draw(st.sampled_from(["notes", "Notes ", "=HYPERLINK()"])))
    rows = []
    participants = st.sampled_from(["p1", "p2", "P 3", "ünï", "=1+1", ""])
    for trial in range(1, draw(st.integers(min_value=0, max_value=6)) + 1):
        row = {
            "participant": draw(participants),
            "trial": str(trial),
            "pumps": str(draw(st.integers(min_value=0, max_value=30))),
            "burst": draw(st.sampled_from(["0", "1"])),
        }
        cells = [row.get(column.strip().lower(), draw(_CELL)) for column in header]
        if draw(st.integers(min_value=0, max_value=3)) == 0:
            cells[draw(st.integers(0, len(cells) - 1))] = draw(_CELL)
        if draw(st.integers(min_value=0, max_value=9)) == 0:
            cells.append(draw(_CELL))
        rows.append(cells)
    delimiter = draw(st.sampled_from([",", "\t", ";"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines = [delimiter.join(header)] + [delimiter.join(cells) for cells in rows]
    if draw(st.booleans()):
        lines.insert(draw(st.integers(1, len(lines))), draw(st.sampled_from(["", " ", delimiter])))
    return newline.join(lines) + draw(st.sampled_from(["", newline]))


@st.composite
def _file_bytes(draw: st.DrawFn) -> bytes:
    """The bytes of a file: a table in some encoding, or anything at all."""
    if draw(st.integers(min_value=0, max_value=7)) == 0:
        return draw(st.binary(max_size=200))
    text = draw(_table_text())
    if draw(st.integers(min_value=0, max_value=5)) == 0:
        text = "\ufeff" + text
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "latin-1", "utf-16"]))
    return text.encode(encoding, errors="replace")


def _counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count() for model in (Assessment, Candidate, Attempt, GameSession, MetricSet)
    )


_names = itertools.count(1)


@given(content=_file_bytes())
@hyp_settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_any_file_is_imported_whole_or_refused_with_a_located_error_writing_nothing(
    db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    # given any file (a new assessment each time: its name is the file's name)
    path = tmp_path / f"trials-{next(_names)}.csv"
    path.write_bytes(content)
    before = _counts()
    stdout, stderr = StringIO(), StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)

    # when it is imported
    exit_code = 0
    try:
        call_command("import_trials", str(path), "--game", "balloons", stdout=stdout)
    except SystemExit as exited:
        exit_code = exited.code if isinstance(exited.code, int) else -1

    if exit_code:
        # then a refusal is one located line on stderr, and nothing was written
        assert exit_code == 1
        message = stderr.getvalue()
        match = _ERROR.fullmatch(message)
        assert match is not None, message
        assert match["path"] == str(path)
        assert _counts() == before, message
        label("refused: " + match["reason"].split(" (")[0].split(",")[0][:40])
        return

    # or every participant's rows were imported, as one assessment
    out = stdout.getvalue()
    assert re.fullmatch(
        r"imported [0-9]+ trials of [0-9]+ participants \(balloons\) into assessment [0-9]+\n",
        out,
    ), out
    assert stderr.getvalue() == ""
    label("imported")
    assessment = Assessment.objects.get(name=path.stem)
    participants = int(out.split(" of ")[1].split()[0])
    assert Attempt.objects.filter(assessment=assessment).count() == participants
    assert (
        GameSession.objects.filter(attempt__assessment=assessment, state="scored").count()
        == participants
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            b"participant,trial,pumps,burst\np1,1,3,0\np1,2,\xff\xfe,0\n",
            "{path}:3: not UTF-8 text (invalid start byte)\n",
            id="latin-1-bytes",
        ),
        pytest.param(
            b'participant,trial,pumps,burst\np1,1,3,0\np1,2,"4\n',
            None,
            id="unclosed-quote",
        ),
        pytest.param(
            # one cell more than the header must not shift the row's columns
            b"participant,trial,pumps,burst\nX,p1,1,3,0\n",
            "{path}:2: 5 cells where the header has 4\n",
            id="row-wider-than-header",
        ),
        pytest.param(
            b"participant,trial,pumps,Pumps ,burst\np1,1,3,4,0\n",
            "{path}:1: column pumps: appears twice in the header\n",
            id="repeated-column",
        ),
        pytest.param(
            b"participant,trial,pumps,burst\np1,1,3,0\np1,2\x00,4,0\n",
            "{path}:3: holds a NUL character (not a text file?)\n",
            id="nul-byte",
        ),
        pytest.param(
            b"participant,trial,pumps,burst\np1,1,=cmd|' /C calc'!A0,0\n",
            "{path}:2: column pumps: expected an integer >= 0, got \"=cmd|' /C calc'!A0\"\n",
            id="formula-cell",
        ),
    ],
)
def test_hostile_files_name_the_line_and_column(
    db: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    content: bytes,
    expected: str | None,
) -> None:
    path = tmp_path / "hostile.csv"
    path.write_bytes(content)
    stderr = StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)

    with pytest.raises(SystemExit) as exited:
        call_command("import_trials", str(path), "--game", "balloons")

    assert exited.value.code == 1
    if expected is not None:
        assert stderr.getvalue() == expected.format(path=path)
    else:
        assert _ERROR.fullmatch(stderr.getvalue()), stderr.getvalue()
    assert _counts() == (0, 0, 0, 0, 0)
