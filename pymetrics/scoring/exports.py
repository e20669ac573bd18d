"""Writing exported rows as CSV or JSON lines, streamed, for the export commands."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO


def number_text(value: float) -> str:
    """A float as CSV text: repr round-trips it exactly; whole numbers stay integers."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def write_rows(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[str], *, fmt: str, output: str | None
) -> int:
    """Write ``rows`` (one mapping per row) to ``output`` (a path) or standard output.

    CSV has a header of ``columns`` and numbers written by :func:`number_text`; JSON
    lines write each row as an object. Rows are written as they come, so an export
    never holds the whole table. Returns the number of rows written.
    """
    handle: TextIO = (
        open(output, "w", encoding="utf-8", newline="")  # noqa: SIM115
        if output
        else sys.stdout
    )
    count = 0
    try:
        if fmt == "csv":
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow(
                    [
                        number_text(value) if isinstance(value, float) else value
                        for value in (row[column] for column in columns)
                    ]
                )
                count += 1
        else:
            for row in rows:
                handle.write(json.dumps({column: row[column] for column in columns}) + "\n")
                count += 1
    finally:
        if handle is not sys.stdout:
            handle.close()
    return count
