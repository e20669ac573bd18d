"""The pure writers: how each kind of value is written, chunk by chunk, in each format."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from pymetrics.reports.exports.writers import (
    FORMATS,
    Column,
    number_text,
    write_csv,
    write_jsonl,
    write_parquet,
    write_xlsx,
)

COLUMNS = (
    Column("name", "text"),
    Column("count", "int"),
    Column("value", "float"),
    Column("ok", "bool"),
    Column("at", "datetime"),
    Column("data", "json"),
)
PARIS = timezone(timedelta(hours=2))
ROWS: list[tuple[Any, ...]] = [
    ("=SUM(A1)", 1, 0.1, True, datetime(2026, 3, 10, 14, 0, tzinfo=PARIS), {"k": [1, "é"]}),
    ("plain", None, float("nan"), False, None, None),
    ("-5", 2, 1e300, None, datetime(2026, 1, 1, tzinfo=UTC), []),
]


@pytest.mark.parametrize(
    ("value", "text"),
    [(2.0, "2"), (0.1, "0.1"), (1 / 3, "0.3333333333333333"), (-1.25, "-1.25"), (1e300, "1e+300")],
)
def test_number_text_reads_back_exactly(value, text):
    assert number_text(value) == text
    assert float(text) == value


def test_csv_writes_each_kind_and_guards_formulas(tmp_path):
    path = tmp_path / "x.csv"

    count = write_csv(str(path), COLUMNS, [ROWS[:2], ROWS[2:]])

    assert count == 3
    with open(path, encoding="utf-8", newline="") as handle:
        assert list(csv.reader(handle)) == [
            ["name", "count", "value", "ok", "at", "data"],
            ["'=SUM(A1)", "1", "0.1", "true", "2026-03-10T12:00:00+00:00", '{"k":[1,"é"]}'],
            ["plain", "", "", "false", "", ""],
            ["'-5", "2", "1e+300", "", "2026-01-01T00:00:00+00:00", "[]"],
        ]


def test_jsonl_writes_one_object_per_row_with_native_values(tmp_path):
    path = tmp_path / "x.jsonl"

    write_jsonl(str(path), COLUMNS, [ROWS])

    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {
            "name": "=SUM(A1)",
            "count": 1,
            "value": 0.1,
            "ok": True,
            "at": "2026-03-10T12:00:00+00:00",
            "data": {"k": [1, "é"]},
        },
        {"name": "plain", "count": None, "value": None, "ok": False, "at": None, "data": None},
        {
            "name": "-5",
            "count": 2,
            "value": 1e300,
            "ok": None,
            "at": "2026-01-01T00:00:00+00:00",
            "data": [],
        },
    ]


def test_xlsx_keeps_text_as_text_and_times_in_utc(tmp_path):
    path = tmp_path / "x.xlsx"

    write_xlsx(str(path), COLUMNS, [ROWS], title="traits")

    workbook = load_workbook(path)
    sheet = workbook["traits"]
    assert sheet["A2"].data_type == "s"  # the formula stays text
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        ["name", "count", "value", "ok", "at", "data"],
        ["=SUM(A1)", 1, 0.1, True, datetime(2026, 3, 10, 12, 0), '{"k":[1,"é"]}'],
        ["plain", None, None, False, None, None],
        ["-5", 2, 1e300, None, datetime(2026, 1, 1), "[]"],
    ]


def test_xlsx_goes_on_to_a_new_sheet_past_the_row_limit(tmp_path):
    path = tmp_path / "x.xlsx"
    rows = [(f"p{i}", i) for i in range(5)]

    count = write_xlsx(
        str(path),
        (Column("name", "text"), Column("n", "int")),
        [rows[:3], rows[3:]],
        title="metrics",
        rows_per_sheet=2,
    )

    workbook = load_workbook(path)
    assert count == 5
    assert workbook.sheetnames == ["metrics", "metrics 2", "metrics 3"]
    assert [list(workbook[name].iter_rows(values_only=True)) for name in workbook.sheetnames] == [
        [("name", "n"), ("p0", 0), ("p1", 1)],
        [("name", "n"), ("p2", 2), ("p3", 3)],
        [("name", "n"), ("p4", 4)],
    ]


def test_parquet_has_typed_columns_and_a_row_group_per_chunk(tmp_path):
    path = tmp_path / "x.parquet"

    write_parquet(str(path), COLUMNS, [ROWS[:1], [], ROWS[1:]])

    parquet = pq.ParquetFile(path)
    assert parquet.metadata.num_row_groups == 2  # the empty chunk adds none
    assert [(f.name, str(f.type)) for f in parquet.schema_arrow] == [
        ("name", "string"),
        ("count", "int64"),
        ("value", "double"),
        ("ok", "bool"),
        ("at", "timestamp[us, tz=UTC]"),
        ("data", "string"),
    ]
    assert parquet.read().to_pylist() == [
        {
            "name": "=SUM(A1)",
            "count": 1,
            "value": 0.1,
            "ok": True,
            "at": datetime(2026, 3, 10, 12, 0, tzinfo=UTC),
            "data": '{"k":[1,"é"]}',
        },
        {"name": "plain", "count": None, "value": None, "ok": False, "at": None, "data": None},
        {
            "name": "-5",
            "count": 2,
            "value": 1e300,
            "ok": None,
            "at": datetime(2026, 1, 1, tzinfo=UTC),
            "data": "[]",
        },
    ]


@pytest.mark.parametrize("file_format", list(FORMATS))
def test_an_empty_export_still_names_its_columns(tmp_path, file_format):
    write, extension, _ = FORMATS[file_format]
    path = tmp_path / f"x.{extension}"

    assert write(str(path), COLUMNS, iter([]), title="events") == 0

    if file_format == "csv":
        assert path.read_text() == "name,count,value,ok,at,data\n"
    elif file_format == "jsonl":
        assert path.read_bytes() == b""
    elif file_format == "xlsx":
        sheet = load_workbook(path)["events"]
        assert list(sheet.iter_rows(values_only=True)) == [
            ("name", "count", "value", "ok", "at", "data")
        ]
    else:
        table = pq.read_table(path)
        assert (table.num_rows, table.column_names) == (0, [c.name for c in COLUMNS])
