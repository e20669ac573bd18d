"""Exports of metrics, traits, fit scores and raw events (CSV, XLSX, JSONL, Parquet)."""
