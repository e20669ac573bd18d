"""Writing an export's rows to a file: CSV, XLSX, JSON lines or Parquet, chunk by chunk.

Pure (no Django): a writer takes the path of a file to create, the columns (name
and kind) and an iterable of *chunks* (lists of row tuples, in column order), and
writes each chunk before it asks for the next, so an export never holds more than
one chunk, whatever its length. It returns the number of rows written.

How each kind of value is written:

| kind | CSV | XLSX | JSON lines | Parquet |
| --- | --- | --- | --- | --- |
| text | as is (see formulas below) | text cell | string | string |
| int | digits | number | number | int64 |
| float | shortest repr that reads back exactly | number | number | float64 |
| bool | ``true`` / ``false`` | boolean | true / false | bool |
| datetime | ISO 8601, UTC | date-time cell, UTC | ISO 8601 string, UTC | timestamp (µs, UTC) |
| json | compact JSON text | JSON text | the JSON value itself | JSON text |

``None`` and numbers that are not finite (NaN, infinity) are missing: an empty CSV
cell, a blank XLSX cell, ``null``. A CSV text cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return gets a leading apostrophe, so a
spreadsheet program opening the file shows it instead of running it as a formula
(XLSX stores text as text, so it needs no such guard).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

Kind = Literal["text", "int", "float", "bool", "datetime", "json"]
Row = Sequence[Any]
Chunks = Iterable[Sequence[Row]]

#: XLSX's last row (1,048,576) minus the header: a longer export goes on to a new sheet.
XLSX_ROWS_PER_SHEET = 1_048_575
#: Cells that a spreadsheet program reads as a formula when they start a CSV field.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind


def number_text(value: float) -> str:
    """A float as CSV text: ``repr`` reads back exactly; whole numbers (below 2**53,
    where every integer is a float) lose the ``.0``."""
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


def _finite(value: Any) -> Any:
    """A float that is not finite is missing (``None``); anything else is itself."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def json_text(value: Any) -> str:
    """Compact JSON, keys in their stored order, non-ASCII kept as it is."""
    return orjson.dumps(value).decode()


# --- CSV -------------------------------------------------------------------------------


def _csv_cell(kind: Kind) -> Callable[[Any], str]:
    def text(value: Any) -> str:
        value = str(value)
        return "'" + value if value.startswith(FORMULA_STARTS) else value

    def number(value: Any) -> str:
        value = _finite(float(value))
        return "" if value is None else number_text(value)

    cells: dict[Kind, Callable[[Any], str]] = {
        "text": text,
        "int": lambda value: str(int(value)),
        "float": number,
        "bool": lambda value: "true" if value else "false",
        "datetime": lambda value: _utc(value).isoformat(),
        "json": json_text,
    }
    cell = cells[kind]
    return lambda value: "" if value is None else cell(value)


def write_csv(path: str, columns: Sequence[Column], chunks: Chunks, *, title: str = "") -> int:
    """UTF-8 (no byte-order mark), a header line, ``\\n`` line ends, RFC 4180 quoting."""
    cells = [_csv_cell(column.kind) for column in columns]
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([column.name for column in columns])
        for chunk in chunks:
            writer.writerows(
                [cell(value) for cell, value in zip(cells, row, strict=True)] for row in chunk
            )
            count += len(chunk)
    return count


# --- JSON lines ----------------------------------------------------------------------------


def _json_value(kind: Kind) -> Callable[[Any], Any]:
    if kind == "float":
        return lambda value: None if value is None else _finite(float(value))
    if kind == "datetime":
        return lambda value: None if value is None else _utc(value).isoformat()
    return lambda value: value


def write_jsonl(path: str, columns: Sequence[Column], chunks: Chunks, *, title: str = "") -> int:
    """One JSON object per line, keys in column order, UTF-8."""
    names = [column.name for column in columns]
    values = [_json_value(column.kind) for column in columns]
    count = 0
    with open(path, "wb") as handle:
        for chunk in chunks:
            handle.write(
                b"".join(
                    orjson.dumps(
                        {
                            name: convert(value)
                            for name, convert, value in zip(names, values, row, strict=True)
                        },
                        option=orjson.OPT_APPEND_NEWLINE,
                    )
                    for row in chunk
                )
            )
            count += len(chunk)
    return count


# --- XLSX ------------------------------------------------------------------------------------


def write_xlsx(
    path: str,
    columns: Sequence[Column],
    chunks: Chunks,
    *,
    title: str = "export",
    rows_per_sheet: int = XLSX_ROWS_PER_SHEET,
) -> int:
    """One sheet named ``title`` with a header row (``title 2``, ``title 3``, ... past
    XLSX's row limit), written row by row in constant memory.

    Text is always written as text (never turned into a number, a formula or a
    link); texts longer than XLSX's 32,767 characters per cell are cut there.
    """
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        path,
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "remove_timezone": True,
        },
    )
    header = workbook.add_format({"bold": True})
    moment = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss.000"})
    count = 0
    sheet: Any = None
    sheet_rows = rows_per_sheet  # forces the first sheet

    def new_sheet() -> Any:
        number = count // rows_per_sheet + 1
        name = title[:31] if number == 1 else f"{title[:25]} {number}"
        made = workbook.add_worksheet(name)
        made.freeze_panes(1, 0)
        for index, column in enumerate(columns):
            made.write_string(0, index, column.name, header)
        return made

    writers: list[Callable[[Any, int, int, Any], Any]] = []
    for column in columns:
        if column.kind in ("int", "float"):
            writers.append(lambda s, r, c, v: s.write_number(r, c, v))
        elif column.kind == "bool":
            writers.append(lambda s, r, c, v: s.write_boolean(r, c, bool(v)))
        elif column.kind == "datetime":
            writers.append(lambda s, r, c, v: s.write_datetime(r, c, _utc(v), moment))
        elif column.kind == "json":
            writers.append(lambda s, r, c, v: s.write_string(r, c, json_text(v)))
        else:
            writers.append(lambda s, r, c, v: s.write_string(r, c, str(v)))
    try:
        for chunk in chunks:
            for row in chunk:
                if sheet_rows == rows_per_sheet:
                    sheet, sheet_rows = new_sheet(), 0
                sheet_rows += 1
                for index, (write, value) in enumerate(zip(writers, row, strict=True)):
                    value = _finite(value)
                    if value is not None:
                        write(sheet, sheet_rows, index, value)
                count += 1
        if sheet is None:
            new_sheet()
    finally:
        workbook.close()
    return count


# --- Parquet ---------------------------------------------------------------------------------


def _arrow_type(kind: Kind) -> Any:
    import pyarrow as pa

    return {
        "text": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "datetime": pa.timestamp("us", tz="UTC"),
        "json": pa.string(),
    }[kind]


def parquet_schema(columns: Sequence[Column]) -> Any:
    import pyarrow as pa

    return pa.schema([pa.field(c.name, _arrow_type(c.kind), nullable=True) for c in columns])


def write_parquet(path: str, columns: Sequence[Column], chunks: Chunks, *, title: str = "") -> int:
    """Typed columns (see the table above), zstd-compressed, one row group per chunk."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema(columns)
    converters: list[Callable[[Any], Any]] = []
    for column in columns:
        if column.kind == "float":
            converters.append(lambda value: None if value is None else _finite(float(value)))
        elif column.kind == "json":
            converters.append(lambda value: None if value is None else json_text(value))
        else:
            converters.append(lambda value: value)
    count = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for chunk in chunks:
            if not chunk:
                continue
            arrays = [
                pa.array([convert(row[index]) for row in chunk], type=field.type)
                for index, (convert, field) in enumerate(zip(converters, schema, strict=True))
            ]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            count += len(chunk)
    return count


Writer = Callable[..., int]

#: format key -> (writer, file extension, content type)
FORMATS: dict[str, tuple[Writer, str, str]] = {
    "csv": (write_csv, "csv", "text/csv; charset=utf-8"),
    "xlsx": (
        write_xlsx,
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "jsonl": (write_jsonl, "jsonl", "application/x-ndjson"),
    "parquet": (write_parquet, "parquet", "application/vnd.apache.parquet"),
}
