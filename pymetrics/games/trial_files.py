"""Reading trial-level files made by other tools (CSV or TSV) into a trial table.

Pure: no Django. Every problem is reported as ``TrialFileError`` with the file's
line number (the header is line 1) and the column, so a person can fix the file.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pymetrics.games.base import CsvValueError, Game, parse_int_column

COMMON_COLUMNS = ("participant", "trial")
_DELIMITERS = ",\t;"


@dataclass
class TrialFileError(ValueError):
    path: str
    line: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        column = f" column {self.column}:" if self.column else ""
        return f"{where}:{column} {self.reason}"


def _detect_delimiter(sample: str, path: str) -> str:
    header = sample.splitlines()[0] if sample else ""
    try:
        return csv.Sniffer().sniff(header, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        if "\t" in header:
            return "\t"
        if "," in header:
            return ","
        raise TrialFileError(
            path, 1, None, "cannot tell the delimiter (use commas or tabs)"
        ) from None


def read_trial_file(path: str | Path, game: Game) -> pd.DataFrame:
    """The trial table of a file; ``session`` holds each row's participant id (str)."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TrialFileError(name, None, None, "no such file") from None
    except UnicodeDecodeError as error:
        line = _line_at(error.object[: error.start])
        raise TrialFileError(name, line, None, f"not UTF-8 text ({error.reason})") from None
    if not text.strip():
        raise TrialFileError(name, 1, None, "the file is empty (a header row is required)")
    if "\x00" in text:  # the parser would end the row there and drop the rest of it
        line = _line_at(text[: text.index("\x00")].encode())
        raise TrialFileError(name, line, None, "holds a NUL character (not a text file?)")
    delimiter = _detect_delimiter(text[:4096], name)
    try:
        # No header row for the parser: with one, a data row holding one cell more than
        # the header would silently become the row's index and shift every column. The
        # header's width is the first row's, so a longer row is a ParserError here.
        raw = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            header=None,
            # Blank lines are kept here and dropped after numbering (trials_from_table),
            # so every error names the row's own line in the file.
            skip_blank_lines=False,
            engine="c",
        )
    except pd.errors.ParserError as error:
        raise _parser_error(name, error) from None
    header = [str(cell).strip().lower() if isinstance(cell, str) else "" for cell in raw.iloc[0]]
    for position, column in enumerate(header):
        if column and column in header[:position]:
            raise TrialFileError(name, 1, column, "appears twice in the header")
    table = raw.iloc[1:].set_axis(header, axis=1).reset_index(drop=True)
    return trials_from_table(table, game, name)


def _line_at(before: bytes) -> int:
    """The 1-based line of the character that follows ``before``."""
    return len((before + b"x").splitlines())


def _parser_error(name: str, error: pd.errors.ParserError) -> TrialFileError:
    """The parser's complaint, located: pandas names the line (or 0-based row) itself."""
    message = " ".join(str(error).split())
    if found := re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message):
        expected, line, saw = found.groups()
        return TrialFileError(name, int(line), None, f"{saw} cells where the header has {expected}")
    if found := re.search(r"EOF inside string starting at row (\d+)", message):
        return TrialFileError(
            name, int(found[1]) + 1, None, "a quoted cell is not closed before the end"
        )
    return TrialFileError(name, None, None, f"cannot parse the file: {message}")


def trials_from_table(table: pd.DataFrame, game: Game, name: str = "<table>") -> pd.DataFrame:
    """Validate a table of raw text cells and convert it with the game's spec."""
    table = table.rename(columns=lambda column: str(column).strip().lower())
    # Number the rows first (the header is line 1), then drop blank ones (every cell
    # empty), so a row keeps its own line number after a blank line.
    lines = np.arange(len(table)) + 2
    cells = table.fillna("").astype(str).apply(lambda column: column.str.strip())
    filled = (cells != "").any(axis=1).to_numpy()
    table, lines = table.loc[filled].reset_index(drop=True), lines[filled]
    for column in COMMON_COLUMNS:
        if column not in table.columns:
            raise TrialFileError(name, 1, column, f"required column {column!r} is missing")
    for spec_column in game.csv_columns:
        if spec_column.required and spec_column.name not in table.columns:
            raise TrialFileError(
                name, 1, spec_column.name, f"required column {spec_column.name!r} is missing"
            )
    if table.empty:
        raise TrialFileError(name, 2, None, "the file has a header but no data rows")
    participants = table["participant"].astype(str).str.strip()
    empty = np.flatnonzero((participants == "").to_numpy())
    if empty.size:
        raise TrialFileError(name, int(lines[empty[0]]), "participant", "is empty")
    try:
        trial = parse_int_column(
            table["trial"].astype(str).str.strip().reset_index(drop=True), "trial", minimum=1
        )
    except CsvValueError as error:
        raise _located(name, lines, error) from None
    prepared = table.drop(columns=["participant", "trial"]).reset_index(drop=True)
    prepared.insert(0, "trial", trial)
    prepared.insert(0, "session", participants.reset_index(drop=True))
    try:
        return game.csv_to_trials(prepared)
    except CsvValueError as error:
        raise _located(name, lines, error) from None


def _located(name: str, lines: np.ndarray, error: CsvValueError) -> TrialFileError:
    line = int(lines[error.row_index]) if error.row_index is not None else 1
    return TrialFileError(name, line, error.column, error.message)
