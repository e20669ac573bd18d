"""Exports at scale on PostgreSQL: bounded memory, and the worker, the page and the link.

110,000 candidates are written with SQL (one completed attempt and one scored trait
each): 10,000 in one assessment, 100,000 in another.

1. The real stack. An owner asks for the 100,000 rows as CSV on the exports page;
   the Celery worker writes them while the page's progress bar follows the job
   (moving, then done) without a reload; the download link streams the file, which
   holds the database's rows. The page passes axe and logs no console error.
2. Memory. Each format exports the traits of both assessments, one after the other
   in a fresh process (as a worker runs them) that measures, for each export, how
   far its resident memory stood at the export's peak (VmHWM, reset before it)
   above where it was once loaded: every peak stays under MEMORY_BOUND_BYTES, and
   the 100,000-row export's is within a small margin of the 10,000-row one's, so
   memory does not grow with rows. Every file is read back (csv, openpyxl, json,
   pyarrow) and compared with the database row by row.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest
from django.db import connection

from tests.integration.conftest import (
    ARTIFACTS,
    ROOT,
    _test_database_url,
    axe_violations,
    staff_page,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)

SMALL, LARGE = 10_000, 100_000
#: The bound docs/exports.md states: how far above its loaded size the resident memory of
#: the process that runs an export stands at the export's peak, whatever its length.
MEMORY_BOUND_BYTES = 32 * 1024 * 1024
#: How much higher the 100,000-row export's peak may be than the 10,000-row one's.
GROWTH_MARGIN_BYTES = 5 * 1024 * 1024
#: The traits columns of the export_traits command, first in every traits export.
CONTRACT = ["participant", "trait", "score", "percentile", "ci_low", "ci_high"]
EMAIL, PASSWORD = "olga@exports.example", "correct horse battery staple"


def _candidates_with_one_trait(organization: Any, assessment: Any, count: int, prefix: str) -> None:
    """``count`` candidates of ``assessment``, each with a completed attempt and one scored
    trait (attention) under the organisation's norm table, written with three statements."""
    from pymetrics.assessments.models import Attempt, Candidate
    from pymetrics.scoring.models import NormTable, TraitScore

    table = NormTable.objects.get(organization=organization)
    candidates, attempts = Candidate._meta.db_table, Attempt._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {candidates}
                (organization_id, external_id, email, email_index, name, is_simulated,
                 created_at)
            SELECT %s, %s || lpad(g::text, 6, '0'), '', '', '', g %% 10 = 0, now()
            FROM generate_series(1, %s) AS g
            """,  # noqa: S608 (table names from the models, values as parameters)
            [organization.pk, prefix, count],
        )
        cursor.execute(
            f"""
            INSERT INTO {attempts}
                (candidate_id, assessment_id, state, accommodations, created_at, started_at,
                 completed_at)
            SELECT c.id, %s, 'completed', '{{}}'::jsonb, now(), now(), now()
            FROM {candidates} AS c
            WHERE c.organization_id = %s AND c.external_id LIKE %s
            ORDER BY c.id
            """,  # noqa: S608
            [assessment.pk, organization.pk, prefix + "%"],
        )
        cursor.execute(
            f"""
            INSERT INTO {TraitScore._meta.db_table}
                (attempt_id, trait, norm_table_id, trait_map_id, scored, raw, z, percentile,
                 z_low, z_high, percentile_low, percentile_high, metrics_present,
                 metrics_total, reliability, reason, quality_flags, extractor_versions,
                 computed_at)
            SELECT a.id, 'attention', %s, %s, true, z, z, 50 + z * 10, z - 0.9, z + 0.9,
                   40 + z * 10, 60 + z * 10, 2, 2, 0.7, '', '[]'::jsonb, '{{}}'::jsonb, now()
            FROM (SELECT id, ((id %% 2001) - 1000) / 400.0 AS z
                  FROM {attempts} WHERE assessment_id = %s) AS a
            """,  # noqa: S608
            [table.pk, table.trait_map_id, assessment.pk],
        )
        # what autovacuum does shortly after a bulk load: the planner's statistics
        for model in (Candidate, Attempt, TraitScore):
            cursor.execute(f"ANALYZE {model._meta.db_table}")


def _world(organization_name: str, sizes: dict[str, int]) -> tuple[Any, dict[str, Any]]:
    from pymetrics.accounts.services import organization_create
    from pymetrics.assessments.models import Assessment
    from pymetrics.scoring.models import NormPopulation, NormTable
    from pymetrics.scoring.services import trait_map_version_get_or_create

    organization = organization_create(name=organization_name)
    NormTable.objects.create(
        organization=organization,
        name="Scale norms",
        version=1,
        population=NormPopulation.ORGANISATION,
        trait_map=trait_map_version_get_or_create(version=1),
        n_attempts=1000,
        data={},
    )
    assessments = {}
    for index, (name, count) in enumerate(sizes.items()):
        assessments[name] = Assessment.objects.create(
            organization=organization, name=name, games=["balloons"]
        )
        _candidates_with_one_trait(organization, assessments[name], count, f"{index}-")
    return organization, assessments


def _database_rows(assessment: Any) -> list[tuple]:
    """The traits export's rows of the assessment as the database holds them, in export order."""
    from pymetrics.scoring.models import TraitScore

    return [
        (
            external_id,
            "attention",
            z,
            percentile,
            z_low,
            z_high,
            p_low,
            p_high,
            "Scale norms v1",
            1,
            assessment.name,
            simulated,
        )
        for external_id, z, percentile, z_low, z_high, p_low, p_high, simulated in (
            TraitScore.objects.filter(attempt__assessment=assessment)
            .order_by("attempt_id")
            .values_list(
                "attempt__candidate__external_id",
                "z",
                "percentile",
                "z_low",
                "z_high",
                "percentile_low",
                "percentile_high",
                "attempt__candidate__is_simulated",
            )
            .iterator(chunk_size=10_000)
        )
    ]


#: Runs exports one after the other in a fresh process; prints, for each, how far the
#: process's resident memory stood above where it was once loaded, at the export's peak.
MEASURE = """
import json
import sys

import django

django.setup()
import pyarrow.parquet, xlsxwriter  # modules are not the export: loaded before measuring
from django.db import connection
from pymetrics.reports.exports.services import export_job_run


def resident(key):
    with open("/proc/self/status") as status:
        fields = dict(line.split(":", 1) for line in status)
    return int(fields[key].split()[0]) * 1024


connection.ensure_connection()
loaded = resident("VmRSS")
for job_id in sys.argv[1:]:
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # the peak (VmHWM) starts again from the resident size now
    job = export_job_run(export_job_id=int(job_id))
    peak = resident("VmHWM") - loaded
    print(json.dumps({"state": job.state, "error": job.error, "peak": peak}), flush=True)
"""


def _start_measuring(*job_ids: int) -> subprocess.Popen[str]:
    """Start running the exports, in order, in a fresh process (as a worker would)."""
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    return subprocess.Popen(
        [sys.executable, "-c", MEASURE, *map(str, job_ids)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _measured(process: subprocess.Popen[str], count: int) -> list[int]:
    """For each export the process ran: how far its resident memory stood at the export's
    peak above where it was once loaded (bytes). Every allocation counts, Python's and
    the libraries' (pyarrow, xlsxwriter, psycopg)."""
    out, err = process.communicate(timeout=180)
    assert process.returncode == 0, err[-4000:]
    results = [json.loads(line) for line in out.strip().splitlines()[-count:]]
    assert [r["state"] for r in results] == ["succeeded"] * count, results
    return [int(result["peak"]) for result in results]


def _memory_of_each_format(organization: Any, assessments: dict[str, Any], expected: Any) -> None:
    """Each format, 10,000 then 100,000 rows, in a fresh process; every file read back
    (while the next format's process runs)."""
    from pymetrics.accounts.models import Role
    from pymetrics.accounts.services import Actor, user_create
    from pymetrics.reports.exports.datasets import TRAIT_COLUMNS
    from pymetrics.reports.exports.selectors import exports_storage
    from pymetrics.reports.exports.services import export_job_request
    from pymetrics.reports.models import ExportJob
    from pymetrics.reports.tests.test_exports_world import read_export

    actor = Actor(
        user=user_create(
            email="ann@scale.example", password=None, organization=organization, role=Role.ANALYST
        ),
        organization=organization,
        role=Role.ANALYST,
    )
    formats = ("xlsx", "csv", "jsonl", "parquet")  # the slowest first: the rest overlap
    jobs: dict[str, dict[str, int]] = {}

    def start(file_format: str) -> subprocess.Popen[str]:
        jobs[file_format] = {
            name: export_job_request(
                actor=actor,
                dataset="traits",
                file_format=file_format,
                assessment_id=assessments[name].pk,
                queue=False,
            ).pk
            for name in ("Small", "Large")
        }
        return _start_measuring(*jobs[file_format].values())

    peaks: dict[str, dict[str, int]] = {}
    timings: dict[str, float] = {}
    began = time.monotonic()
    running = start(formats[0])
    for index, file_format in enumerate(formats):
        small, large = _measured(running, 2)
        peaks[file_format] = {"Small": small, "Large": large}
        timings[file_format] = round(time.monotonic() - began, 2)
        began = time.monotonic()
        if index + 1 < len(formats):
            running = start(formats[index + 1])
        for name, job_id in jobs[file_format].items():
            job = ExportJob.objects.get(pk=job_id)
            assert (job.state, job.rows, job.total) == (
                "succeeded",
                len(expected[name]),
                len(expected[name]),
            )
            try:
                header, rows = read_export(
                    exports_storage().path(job.file_name), file_format, TRAIT_COLUMNS
                )
            finally:
                exports_storage().delete(job.file_name)
            assert header[:6] == CONTRACT
            assert rows == expected[name], (file_format, name)

    report = {"seconds (both, with the process start)": timings, "peak above loaded": peaks}
    (ARTIFACTS / "exports-memory.txt").write_text(repr(report) + "\n")
    for file_format, peak in peaks.items():
        assert peak["Large"] < MEMORY_BOUND_BYTES, (file_format, peak)
        assert peak["Large"] < peak["Small"] + GROWTH_MARGIN_BYTES, (file_format, peak)


def _the_page_follows_the_worker(
    services: Any, browser: Any, organization: Any, assessment: Any, expected: list[tuple]
) -> None:
    """An owner asks for the assessment's traits as CSV on the page; the worker writes it."""
    from django.urls import reverse

    from pymetrics.accounts.models import AuditLog, Role
    from pymetrics.accounts.services import user_create
    from pymetrics.reports.exports.datasets import TRAIT_COLUMNS
    from pymetrics.reports.exports.selectors import exports_storage
    from pymetrics.reports.models import ExportJob
    from pymetrics.reports.tests.test_exports_world import read_export

    user_create(email=EMAIL, password=PASSWORD, organization=organization, role=Role.OWNER)
    page = staff_page(browser, services, email=EMAIL, password=PASSWORD)

    # the form, filled in on the exports page
    page.goto(services.base_url + reverse("exports:list"))
    page.wait_for_selector('[data-testid="exports-empty"]')
    assert axe_violations(page) == []
    page.select_option("#id_dataset", "traits")
    page.select_option("#id_format", "csv")
    page.select_option("#id_assessment", str(assessment.pk))
    page.click('[data-testid="export-submit"]')
    row = page.wait_for_selector('[data-testid="export-row"]')
    assert row is not None
    job = ExportJob.objects.get(organization=organization, requested_by__email=EMAIL)

    # the worker writes it; the bar follows it to the end without a reload
    seen: list[float] = []

    def finished() -> bool:
        seen.append(float(page.eval_on_selector('[data-role="progress"]', "bar => bar.value")))
        return page.get_attribute('[data-testid="export-row"]', "data-state") == "succeeded"

    wait_until(finished, timeout=60, interval=0.2)
    (ARTIFACTS / "exports-progress.txt").write_text(repr(seen) + "\n")
    assert seen == sorted(seen)
    assert any(0.0 < value < 1.0 for value in seen), seen  # it moved while the worker wrote
    assert seen[-1] == 1.0
    assert page.inner_text('[data-role="state"]') == "Ready"
    assert page.inner_text('[data-role="percent"]') == "100%"
    assert page.inner_text('[data-role="rows"]') == f"{len(expected):,} rows"
    job.refresh_from_db()
    assert (job.state, job.rows, job.total) == ("succeeded", len(expected), len(expected))
    assert axe_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "staff-exports.png"), full_page=True)

    # the link downloads the file the worker stored, holding the database's rows
    link = page.locator('[data-testid="export-download"]')
    assert link.is_visible()
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    try:
        assert download.suggested_filename == (
            f"{organization.slug}-traits-{job.pk}-{job.finished_at:%Y%m%d}.csv"
        )
        header, rows = read_export(str(download.path()), "csv", TRAIT_COLUMNS)
        assert header[:6] == CONTRACT
        assert rows == expected
        with exports_storage().open(job.file_name, "rb") as stored:
            assert download.path().read_bytes() == stored.read()
    finally:
        exports_storage().delete(job.file_name)
    assert list(
        AuditLog.objects.filter(object_type="exportjob", object_id=str(job.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["export.request", "export.complete", "export.download"]
    assert page.console_errors == []


def test_exports_of_100000_rows_in_bounded_memory_and_through_the_worker(services, browser):
    organization, assessments = _world("Scale Org", {"Small": SMALL, "Large": LARGE})
    expected = {name: _database_rows(assessment) for name, assessment in assessments.items()}
    assert [len(rows) for rows in expected.values()] == [SMALL, LARGE]

    try:
        _the_page_follows_the_worker(
            services, browser, organization, assessments["Large"], expected["Large"]
        )
        _memory_of_each_format(organization, assessments, expected)
    finally:
        _remove_the_organisations_folder(organization)


def _remove_the_organisations_folder(organization: Any) -> None:
    """The files are deleted as they are read; their folder goes too, when empty."""
    from pymetrics.reports.exports.selectors import exports_storage

    storage = exports_storage()
    folder = str(organization.pk)
    if storage.exists(folder) and storage.listdir(folder) == ([], []):
        os.rmdir(storage.path(folder))
