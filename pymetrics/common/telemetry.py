"""Prometheus metrics of the platform itself."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)

EVENTS_INGESTED = Counter(
    "pymetrics_events_ingested_total",
    "Events stored by ingestion (duplicates excluded)",
    registry=REGISTRY,
)
EVENT_BATCHES = Counter(
    "pymetrics_event_batches_total",
    "Event batches received, by outcome",
    ["outcome"],
    registry=REGISTRY,
)
INGEST_SECONDS = Histogram(
    "pymetrics_ingest_batch_seconds",
    "Time to validate and store one event batch",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    registry=REGISTRY,
)
