"""Every dataset in every format, read back and compared with the database row by row.

The world (``test_exports_world``) is small and written out by hand: its expected
rows are the contract of each dataset (columns, order, values, types).
"""

from __future__ import annotations

from datetime import date

import pytest

from pymetrics.accounts.models import Role
from pymetrics.accounts.services import Actor, user_create
from pymetrics.reports.exports.datasets import (
    DATASETS,
    ExportScope,
    column_names,
)
from pymetrics.reports.exports.selectors import exports_storage
from pymetrics.reports.exports.services import export_job_request, export_job_run
from pymetrics.reports.models import ExportState
from pymetrics.reports.tests.test_exports_world import (
    build_export_world,
    expected_rows,
    read_export,
)

FORMATS = ["csv", "xlsx", "jsonl", "parquet"]
#: The export commands' columns (DESIGN.md 4.2) come first, in their order.
CONTRACT_COLUMNS = {
    "metrics": ["participant", "game", "metric", "value"],
    "traits": ["participant", "trait", "score", "percentile", "ci_low", "ci_high"],
}


@pytest.fixture
def world(organization, other_organization):
    return build_export_world(organization, other_organization)


@pytest.fixture
def analyst(organization):
    user = user_create(
        email="ann@acme.example", password=None, organization=organization, role=Role.ANALYST
    )
    return Actor(user=user, organization=organization, role=Role.ANALYST)


@pytest.fixture(autouse=True)
def exports_dir(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "exports")},
        },
    }
    return tmp_path / "exports"


def _rows(dataset: str, scope: ExportScope) -> list[tuple]:
    return [row for batch in DATASETS[dataset].batches(scope) for row in batch.rows]


def _as_written(row: tuple, dataset: str) -> tuple:
    """A batch row as the files hold it: metric values are numbers of kind float."""
    kinds = [column.kind for column in DATASETS[dataset].columns]
    return tuple(
        float(value) if kind == "float" and value is not None else value
        for kind, value in zip(kinds, row, strict=True)
    )


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("dataset", list(DATASETS))
def test_each_format_reads_back_the_datasets_rows(world, analyst, dataset, file_format):
    # given the hand-made world, when an analyst exports the dataset in the format
    job = export_job_request(actor=analyst, dataset=dataset, file_format=file_format, queue=False)
    job = export_job_run(export_job_id=job.pk)

    # then the file holds exactly the expected rows, in order, with their types
    assert job.state == ExportState.SUCCEEDED
    expected = expected_rows(world, dataset)
    assert (job.rows, job.total) == (len(expected), DATASETS[dataset].count(job_scope(job)))
    path = exports_storage().path(job.file_name)
    header, rows = read_export(path, file_format, DATASETS[dataset].columns)
    assert header == list(column_names(dataset))
    assert rows == expected
    assert job.size == exports_storage().size(job.file_name) > 0


def job_scope(job) -> ExportScope:
    return ExportScope.from_json(job.organization_id, job.scope)


@pytest.mark.parametrize("dataset", ["metrics", "traits"])
def test_the_commands_columns_come_first_in_their_order(dataset):
    assert (
        list(column_names(dataset))[: len(CONTRACT_COLUMNS[dataset])] == (CONTRACT_COLUMNS[dataset])
    )


def test_the_units_counted_first_are_what_progress_is_a_share_of(world, organization):
    # metrics count game sessions with metrics (the older extractor version not twice)
    scope = ExportScope(organization_id=organization.pk)

    counts = {key: dataset.count(scope) for key, dataset in DATASETS.items()}

    assert counts == {"metrics": 3, "traits": 3, "fit_scores": 3, "events": 9}


def test_an_assessment_scope_keeps_its_attempts_only(world, organization):
    scope = ExportScope(organization_id=organization.pk, assessment_id=world.interns.pk)

    assert [row[0] for row in _rows("events", scope)] == ["P-003", "P-003"]
    assert _rows("metrics", scope) == []


@pytest.mark.parametrize(
    ("filters", "participants"),
    [
        pytest.param({"attempt_state": "completed"}, ["P-001", "SIM"], id="completed"),
        pytest.param({"attempt_state": "started"}, ["P-003"], id="started"),
        pytest.param({"completed_from": date(2026, 3, 11)}, ["SIM"], id="from-11-march"),
        pytest.param({"completed_to": date(2026, 3, 10)}, ["P-001"], id="to-10-march-inclusive"),
        pytest.param(
            {"completed_from": date(2026, 3, 20), "completed_to": date(2026, 3, 20)},
            ["SIM"],
            id="on-20-march-late-evening",
        ),
        pytest.param({"include_simulated": False}, ["P-001", "P-003"], id="real-only"),
    ],
)
def test_the_filters_choose_attempts(world, organization, filters, participants):
    scope = ExportScope(organization_id=organization.pk, **filters)

    found = list(dict.fromkeys(row[0] for row in _rows("events", scope)))

    assert found == [world.simulated_participant if p == "SIM" else p for p in participants]


def test_the_game_filter_narrows_metrics_and_events(world, organization):
    scope = ExportScope(organization_id=organization.pk, game="arrows")

    assert [row[2] for row in _rows("metrics", scope)] == [
        "accuracy",
        "rt_mean_ms",
        "legacy_index",
    ]
    assert [(row[1], row[3]) for row in _rows("events", scope)] == [("arrows", 1), ("arrows", 2)]
    assert DATASETS["metrics"].count(scope) == 1
    assert DATASETS["events"].count(scope) == 2


def test_another_organisations_rows_are_never_exported(world, other_organization):
    # the other organisation's own export holds only its candidate
    scope = ExportScope(organization_id=other_organization.pk)

    rows = {key: _rows(key, scope) for key in DATASETS}

    assert {key: [row[0] for row in found] for key, found in rows.items()} == {
        "metrics": ["G-1"],
        "traits": ["G-1"],
        "fit_scores": ["G-1"],
        "events": ["G-1"],
    }
    assert rows["traits"][0][8] == "Globex norms v1"


def test_traits_without_a_norm_table_export_nothing(db, organization):
    scope = ExportScope(organization_id=organization.pk)

    assert (DATASETS["traits"].count(scope), _rows("traits", scope)) == (0, [])


def test_pages_and_chunks_keep_the_order(world, organization, monkeypatch):
    # given pages of one attempt and chunks of two events
    from pymetrics.reports.exports import datasets

    monkeypatch.setattr(datasets, "METRIC_ATTEMPTS_PER_PAGE", 1)
    monkeypatch.setattr(datasets, "ATTEMPTS_PER_PAGE", 1)
    monkeypatch.setattr(datasets, "SESSIONS_PER_PAGE", 1)
    monkeypatch.setattr(datasets, "EVENTS_PER_CHUNK", 2)
    scope = ExportScope(organization_id=organization.pk)

    # then the batches hold the same rows in the same order as one big page would
    for key in DATASETS:
        batches = list(DATASETS[key].batches(scope))
        assert [_as_written(row, key) for b in batches for row in b.rows] == expected_rows(
            world, key
        )
        assert sum(batch.units for batch in batches) == DATASETS[key].count(scope)
    event_batches = [len(b.rows) for b in DATASETS["events"].batches(scope)]
    assert event_batches == [2, 1, 2, 2, 1, 1]
