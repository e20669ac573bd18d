"""Liveness, readiness and Prometheus endpoints (DESIGN.md 4.3, "Health")."""

from __future__ import annotations

import pytest

from pymetrics.common import probes as health


def test_healthz_answers_while_the_process_lives(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_ready_when_every_check_passes(client, db):
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["failed"]) == ("ready", [])
    assert set(body["checks"]) == {"database", "cache", "channel_layer", "broker"}
    assert all(check["ok"] is True for check in body["checks"].values())
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("failing", ["database", "cache", "channel_layer", "broker"])
def test_readyz_is_503_naming_the_check_that_failed(client, db, monkeypatch, caplog, failing):
    # given one dependency that does not answer
    def broken() -> None:
        raise ConnectionError("connection refused")

    monkeypatch.setitem(health.CHECKS, failing, broken)

    # when readiness is asked
    response = client.get("/readyz")

    # then the answer is 503 naming it, and the others still report ok; why it
    # failed (hosts, addresses) goes to the log, not to whoever asked
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert (body["status"], body["failed"]) == ("unavailable", [failing])
    assert body["checks"][failing] == {"ok": False}
    assert [r.getMessage() for r in caplog.records if r.name == "pymetrics.ops.health"] == [
        f"readyz: {failing} is not ready: ConnectionError: connection refused"
    ]
    assert [name for name, check in body["checks"].items() if check["ok"]] == [
        name for name in ("database", "cache", "channel_layer", "broker") if name != failing
    ]


def test_readyz_names_every_failed_check(client, db, monkeypatch):
    def broken() -> None:
        raise TimeoutError("no answer in 2 s")

    monkeypatch.setitem(health.CHECKS, "cache", broken)
    monkeypatch.setitem(health.CHECKS, "broker", broken)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failed"] == ["cache", "broker"]


def test_metrics_is_prometheus_text(client, db):
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    text = response.content.decode()
    assert "# TYPE pymetrics_events_ingested_total counter" in text
    assert (
        "# HELP pymetrics_ingest_batch_seconds Time to validate and store one event batch" in text
    )
    assert "# TYPE process_resident_memory_bytes gauge" in text


def test_metrics_count_the_events_stored(client, play, make_balloon_events):
    # given the counters before a batch
    before = client.get("/metrics").content.decode()
    events = make_balloon_events([(2, False)])

    # when a 4-event batch is stored, then sent again (all duplicates)
    assert play.send(events).json()["accepted"] == 4
    assert play.send(events).json()["duplicates"] == 4

    # then 4 events are counted (duplicates excluded), over 2 timed batches
    after = client.get("/metrics").content.decode()
    assert _sample(after, "pymetrics_events_ingested_total") == (
        _sample(before, "pymetrics_events_ingested_total") + 4
    )
    assert _sample(after, "pymetrics_ingest_batch_seconds_count") == (
        _sample(before, "pymetrics_ingest_batch_seconds_count") + 2
    )


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"no sample {name}")


TOKEN = "m" * 20 + "-scrape-token-0123456789"


def test_metrics_ask_for_the_token_when_one_is_set(client, db, settings):
    settings.PYMETRICS_METRICS_TOKEN = TOKEN

    refused = [
        client.get("/metrics"),
        client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"}),
        client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}),
        client.get("/metrics", headers={"Authorization": TOKEN}),
    ]
    allowed = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert [response.status_code for response in refused] == [401, 401, 401, 401]
    assert refused[0]["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert refused[0].json()["error"]["code"] == "not_authenticated"
    assert b"pymetrics_" not in refused[0].content
    assert allowed.status_code == 200
    assert b"# TYPE pymetrics_events_ingested_total counter" in allowed.content


def test_metrics_answer_without_a_token_when_none_is_set(client, db, settings):
    settings.PYMETRICS_METRICS_TOKEN = None

    response = client.get("/metrics")

    assert response.status_code == 200
    assert b"# TYPE pymetrics_events_ingested_total counter" in response.content


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probes_and_scrapes_by_pod_address_are_answered_whatever_the_host(client, db, path):
    """Kubelets and Prometheus ask a pod by its address, which is no allowed host."""
    response = client.get(path, HTTP_HOST="10.2.3.4:8000")
    refused_elsewhere = client.get("/api/v1/", HTTP_HOST="10.2.3.4:8000")

    assert response.status_code == 200
    assert response["X-Request-ID"]  # still under the request id middleware
    assert refused_elsewhere.status_code == 400  # every other path checks the host


def test_the_probe_endpoints_keep_their_methods_and_the_metrics_token(client, db, settings):
    settings.PYMETRICS_METRICS_TOKEN = TOKEN

    assert client.post("/healthz", HTTP_HOST="10.2.3.4:8000").status_code == 405
    assert client.get("/metrics", HTTP_HOST="10.2.3.4:8000").status_code == 401
    allowed = client.get(
        "/metrics", HTTP_HOST="10.2.3.4:8000", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert allowed.status_code == 200


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_probe_endpoints_are_served_and_other_paths_go_on(async_client):
    pod_address = {"host": "10.2.3.4:8000"}
    health_response = await async_client.get("/healthz", headers=pod_address)
    other = await async_client.get("/api/v1/", headers=pod_address)

    assert health_response.status_code == 200
    assert health_response.json() == {"status": "ok"}
    assert other.status_code == 400
