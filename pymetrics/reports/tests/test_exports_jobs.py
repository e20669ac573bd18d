"""Export jobs: the request (validation, roles, audit), the run (progress, idempotency,
failure), the Celery tasks and the purge of expired files."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from django.utils import timezone

from pymetrics.accounts.models import AuditLog, Role
from pymetrics.accounts.services import Actor, user_create
from pymetrics.common.errors import Conflict, PermissionDenied, ValidationFailed
from pymetrics.reports.exports import datasets as datasets_module
from pymetrics.reports.exports import services
from pymetrics.reports.exports.datasets import DATASETS
from pymetrics.reports.exports.selectors import exports_storage
from pymetrics.reports.exports.services import (
    export_files_purge_expired,
    export_job_request,
    export_job_run,
)
from pymetrics.reports.models import ExportJob, ExportState
from pymetrics.reports.tasks import export_run, purge_expired_exports
from pymetrics.reports.tests.test_exports_world import build_export_world


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


@pytest.fixture
def world(organization, other_organization):
    return build_export_world(organization, other_organization)


def _actor(organization, role: str, email: str) -> Actor:
    user = user_create(email=email, password=None, organization=organization, role=role)
    return Actor(user=user, organization=organization, role=role)


@pytest.fixture
def analyst(organization):
    return _actor(organization, Role.ANALYST, "ann@acme.example")


@pytest.fixture
def recruiter_actor(organization, recruiter):
    return Actor(user=recruiter, organization=organization, role=Role.RECRUITER)


# --- request ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message", "details"),
    [
        pytest.param(
            {"dataset": "people"},
            "unknown dataset 'people': one of metrics, traits, fit_scores, events",
            {"dataset": "people"},
            id="unknown-dataset",
        ),
        pytest.param(
            {"file_format": "pdf"},
            "unknown format 'pdf': one of csv, xlsx, jsonl, parquet",
            {"format": "pdf"},
            id="unknown-format",
        ),
        pytest.param(
            {"attempt_state": "finished"},
            "unknown attempt state 'finished': one of invited, started, completed, expired, "
            "withdrawn",
            {"attempt_state": "finished"},
            id="unknown-state",
        ),
        pytest.param(
            {"completed_from": date(2026, 3, 2), "completed_to": date(2026, 3, 1)},
            "completed_from is after completed_to",
            {"completed_from": "2026-03-02", "completed_to": "2026-03-01"},
            id="dates-inverted",
        ),
        pytest.param(
            {"completed_from": date(2026, 3, 1), "attempt_state": "started"},
            "completed-between dates keep only completed attempts: leave the state empty or "
            "choose completed",
            {"attempt_state": "started"},
            id="dates-with-another-state",
        ),
        pytest.param(
            {"game": "chess", "dataset": "metrics"},
            "unknown game 'chess'",
            {"game": "chess"},
            id="unknown-game",
        ),
        pytest.param(
            {"game": "balloons", "dataset": "traits"},
            "the game filter applies to metrics and events only",
            {"game": "balloons"},
            id="game-on-traits",
        ),
    ],
)
def test_a_request_with_bad_input_is_refused_clearly(analyst, overrides, message, details):
    values = {"dataset": "metrics", "file_format": "csv", **overrides}

    with pytest.raises(ValidationFailed) as refused:
        export_job_request(actor=analyst, queue=False, **values)

    assert (refused.value.message, refused.value.details) == (message, details)
    assert ExportJob.objects.count() == 0


def test_another_organisations_assessment_is_refused_like_an_unknown_one(
    world, analyst, other_organization
):
    foreign = other_organization.assessments.get().pk
    missing = foreign + 1000

    errors = []
    for assessment_id in (foreign, missing):
        with pytest.raises(ValidationFailed) as refused:
            export_job_request(
                actor=analyst,
                dataset="traits",
                file_format="csv",
                assessment_id=assessment_id,
                queue=False,
            )
        errors.append((refused.value.message, refused.value.details))

    assert errors == [
        (f"assessment {foreign} not found in your organisation", {"assessment_id": foreign}),
        (f"assessment {missing} not found in your organisation", {"assessment_id": missing}),
    ]


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        pytest.param(Role.OWNER, True, id="owner"),
        pytest.param(Role.ADMIN, True, id="admin"),
        pytest.param(Role.ANALYST, True, id="analyst"),
        pytest.param(Role.RECRUITER, False, id="recruiter"),
    ],
)
def test_raw_events_are_for_owners_admins_and_analysts(organization, role, allowed):
    actor = _actor(organization, role, f"{role}@acme.example")

    for dataset in ("metrics", "traits", "fit_scores"):
        export_job_request(actor=actor, dataset=dataset, file_format="csv", queue=False)
    if allowed:
        export_job_request(actor=actor, dataset="events", file_format="csv", queue=False)
    else:
        with pytest.raises(PermissionDenied) as refused:
            export_job_request(actor=actor, dataset="events", file_format="csv", queue=False)
        assert refused.value.message == (
            "only an owner, an admin or an analyst may export raw events"
        )

    assert ExportJob.objects.filter(dataset="events").exists() is allowed
    assert ExportJob.objects.count() == 3 + allowed


def test_a_request_is_stored_queued_and_audited_without_names(world, analyst, organization):
    job = export_job_request(
        actor=analyst,
        dataset="events",
        file_format="parquet",
        assessment_id=world.graduates.pk,
        completed_from=date(2026, 3, 1),
        game="balloons",
        include_simulated=False,
        queue=False,
    )

    job.refresh_from_db()
    assert (job.state, job.progress, job.rows, job.file_name) == ("queued", 0.0, 0, "")
    assert (job.organization_id, job.requested_by_id) == (organization.pk, analyst.user.pk)
    scope = {
        "assessment_id": world.graduates.pk,
        "attempt_state": None,
        "completed_from": "2026-03-01",
        "completed_to": None,
        "game": "balloons",
        "include_simulated": False,
    }
    assert job.scope == scope
    entry = AuditLog.objects.get(action="export.request")
    assert (entry.actor_id, entry.organization_id, entry.object_type, entry.object_id) == (
        analyst.user.pk,
        organization.pk,
        "exportjob",
        str(job.pk),
    )
    assert entry.details == {"dataset": "events", "format": "parquet", "scope": scope}


def test_a_double_click_does_not_queue_more_than_the_limit(analyst, monkeypatch):
    monkeypatch.setattr(services, "MAX_PENDING_PER_ORGANIZATION", 2)
    for _ in range(2):
        export_job_request(actor=analyst, dataset="metrics", file_format="csv", queue=False)

    with pytest.raises(Conflict) as refused:
        export_job_request(actor=analyst, dataset="metrics", file_format="csv", queue=False)

    assert refused.value.message == (
        "your organisation has 2 exports queued or running: wait for one to finish"
    )


# --- run -------------------------------------------------------------------------------


def _spy_progress(monkeypatch, dataset: str) -> list[tuple[float, int]]:
    """(progress, rows) of the job as stored before each batch is read, and at the end."""
    seen: list[tuple[float, int]] = []
    original = DATASETS[dataset]

    def batches(scope):
        def stored():
            job = ExportJob.objects.get()
            return (job.progress, job.rows)

        for batch in original.batches(scope):
            seen.append(stored())
            yield batch
        seen.append(stored())

    monkeypatch.setitem(DATASETS, dataset, dataclasses.replace(original, batches=batches))
    return seen


def test_progress_is_written_after_every_batch_from_the_count_taken_first(
    world, analyst, monkeypatch
):
    # given pages of one session and chunks of two events: batches of 2, 1, 2, 2, 1, 1 events
    monkeypatch.setattr(datasets_module, "SESSIONS_PER_PAGE", 1)
    monkeypatch.setattr(datasets_module, "EVENTS_PER_CHUNK", 2)
    seen = _spy_progress(monkeypatch, "events")
    job = export_job_request(actor=analyst, dataset="events", file_format="jsonl", queue=False)

    job = export_job_run(export_job_id=job.pk)

    # then before each batch the job held the share written so far, of the 9 events counted
    assert seen == [
        (0.0, 0),
        (0.2222, 2),
        (0.3333, 3),
        (0.5556, 5),
        (0.7778, 7),
        (0.8889, 8),
        (1.0, 9),
    ]
    assert (job.state, job.progress, job.total, job.rows) == ("succeeded", 1.0, 9, 9)


def test_metrics_progress_counts_game_sessions(world, analyst, monkeypatch):
    # pages of one attempt: P-001's two sessions (6 rows), then the simulated one's (1 row)
    monkeypatch.setattr(datasets_module, "METRIC_ATTEMPTS_PER_PAGE", 1)
    seen = _spy_progress(monkeypatch, "metrics")
    job = export_job_request(actor=analyst, dataset="metrics", file_format="csv", queue=False)

    job = export_job_run(export_job_id=job.pk)

    assert seen == [(0.0, 0), (0.6667, 6), (1.0, 7)]
    assert (job.total, job.rows) == (3, 7)


def test_a_finished_job_is_kept_for_the_days_set_and_not_written_again(
    world, analyst, settings, organization
):
    settings.PYMETRICS_EXPORT_KEEP_DAYS = 3
    job = export_job_request(actor=analyst, dataset="traits", file_format="csv", queue=False)
    before = timezone.now()

    first = export_job_run(export_job_id=job.pk)
    again = export_job_run(export_job_id=job.pk)

    assert first.state == again.state == ExportState.SUCCEEDED
    assert again.file_name == first.file_name
    assert again.finished_at == first.finished_at
    assert first.finished_at is not None
    assert first.finished_at >= before
    assert first.expires_at == first.finished_at + timedelta(days=3)
    assert first.file_name.startswith(f"{organization.pk}/")
    assert len(first.file_name.split("/")[1].removesuffix(".csv")) == 32  # 24 random bytes
    assert exports_storage().listdir(str(organization.pk)) == ([], [first.file_name.split("/")[1]])
    entry = AuditLog.objects.get(action="export.complete")
    assert (entry.actor_id, entry.details) == (
        None,
        {"dataset": "traits", "format": "csv", "rows": 3, "size": first.size},
    )


def test_a_job_left_running_by_a_dead_worker_is_written_again(world, analyst):
    job = export_job_request(actor=analyst, dataset="fit_scores", file_format="xlsx", queue=False)
    ExportJob.objects.filter(pk=job.pk).update(state=ExportState.RUNNING, progress=0.4, rows=2)

    job = export_job_run(export_job_id=job.pk)

    assert (job.state, job.progress, job.rows) == ("succeeded", 1.0, 3)


def test_an_unexpected_error_fails_the_job_with_a_message(world, analyst, monkeypatch):
    def broken(scope):
        yield from ()
        raise KeyError("boom")

    monkeypatch.setitem(DATASETS, "traits", dataclasses.replace(DATASETS["traits"], batches=broken))
    job = export_job_request(actor=analyst, dataset="traits", file_format="parquet", queue=False)

    job = export_job_run(export_job_id=job.pk)

    assert (job.state, job.error, job.file_name) == (
        "failed",
        "the export failed (KeyError)",
        "",
    )
    assert job.finished_at is not None
    assert export_job_run(export_job_id=job.pk).state == "failed"  # not tried again


def test_an_outage_propagates_for_the_task_to_retry(world, analyst, monkeypatch):
    def unavailable(scope):
        raise OSError("disk unavailable")

    monkeypatch.setitem(
        DATASETS, "metrics", dataclasses.replace(DATASETS["metrics"], count=unavailable)
    )
    job = export_job_request(actor=analyst, dataset="metrics", file_format="csv", queue=False)

    with pytest.raises(OSError, match="disk unavailable"):
        export_job_run(export_job_id=job.pk)

    assert ExportJob.objects.get(pk=job.pk).state == "running"


def test_the_task_runs_after_the_request_commits(
    world, analyst, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = export_job_request(actor=analyst, dataset="metrics", file_format="csv")

    job.refresh_from_db()
    assert (job.state, job.rows) == ("succeeded", 7)
    assert export_run.name == "reports.export_run"
    assert export_run.delay(job.pk).get() == {"state": "succeeded", "rows": 7}


def test_the_task_fails_the_job_when_its_retries_are_spent(world, analyst, monkeypatch):
    monkeypatch.setattr(
        "pymetrics.reports.exports.tasks.export_job_run",
        lambda **kwargs: (_ for _ in ()).throw(OSError("storage down")),
    )
    job = export_job_request(actor=analyst, dataset="metrics", file_format="csv", queue=False)
    monkeypatch.setattr(export_run, "max_retries", 0)

    with pytest.raises(OSError, match="storage down"):
        export_run.apply(args=[job.pk], throw=True)

    job.refresh_from_db()
    assert job.state == "failed"
    assert job.error == (
        "the export failed: OSError after 0 retries (the database or the file storage was "
        "unavailable)"
    )


# --- purge -----------------------------------------------------------------------------


def test_the_purge_deletes_expired_files_and_keeps_the_jobs(world, analyst, organization):
    old, fresh = (
        export_job_run(
            export_job_id=export_job_request(
                actor=analyst, dataset="traits", file_format=fmt, queue=False
            ).pk
        )
        for fmt in ("csv", "jsonl")
    )
    now = timezone.now()
    ExportJob.objects.filter(pk=old.pk).update(expires_at=now - timedelta(seconds=1))
    storage = exports_storage()

    assert purge_expired_exports.name == "reports.purge_expired_exports"
    assert purge_expired_exports.delay().get() == {"expired": 1}

    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.state, storage.exists(old.file_name)) == ("expired", False)
    assert (fresh.state, storage.exists(fresh.file_name)) == ("succeeded", True)
    entry = AuditLog.objects.get(action="export.expire")
    assert (entry.object_id, entry.organization_id, entry.details) == (
        str(old.pk),
        organization.pk,
        {"dataset": "traits", "format": "csv", "rows": 3},
    )
    # a second pass finds nothing more to delete
    assert export_files_purge_expired(now=now) == 0
    assert export_files_purge_expired(now=fresh.expires_at) == 1


def test_the_purge_fails_jobs_left_queued_or_running_for_a_day(analyst, organization):
    now = timezone.now()
    stale, running, recent = (
        ExportJob.objects.create(
            organization=organization, dataset="metrics", format="csv", state=state, created_at=at
        )
        for state, at in (
            ("queued", now - timedelta(hours=25)),
            ("running", now - timedelta(hours=24, seconds=1)),
            ("queued", now - timedelta(hours=23)),
        )
    )

    assert export_files_purge_expired(now=now) == 0

    states = {
        job.pk: (job.state, job.error)
        for job in ExportJob.objects.filter(pk__in=[stale.pk, running.pk, recent.pk])
    }
    failed = ("failed", "the export did not finish within 24 hours: request it again")
    assert states == {stale.pk: failed, running.pk: failed, recent.pk: ("queued", "")}
    # so they no longer count against the pending limit
    assert ExportJob.objects.filter(state__in=("queued", "running")).count() == 1
