"""Reads from the event store, shaped for the pure extractors (pandas frames)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd
from django.db import connection

from pymetrics.events.models import Event

EVENT_COLUMNS = ["session", "seq", "t", "type", "data"]


def events_frame(
    *, game_session_ids: Sequence[int], types: Iterable[str] | None = None
) -> pd.DataFrame:
    """Events of many game sessions as one frame (session, seq, t, type, data)."""
    if not game_session_ids:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    queryset = Event.objects.filter(game_session_id__in=list(game_session_ids))
    if types is not None:
        queryset = queryset.filter(type__in=list(types))
    rows = list(
        queryset.order_by("game_session_id", "seq").values_list(
            "game_session_id", "seq", "t", "type", "data"
        )
    )
    return pd.DataFrame(rows, columns=EVENT_COLUMNS)


def session_timing_stats(*, game_session_ids: Sequence[int]) -> pd.DataFrame:
    """Per game session: duration (largest t) and events timed before their predecessor.

    Computed in the database with a window function, so quality checks over every
    event do not move every event into Python.
    """
    columns = ["duration_ms", "out_of_order"]
    if not game_session_ids:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="session"))
    table = Event._meta.db_table
    placeholders = ", ".join(["%s"] * len(game_session_ids))
    sql = f"""
        SELECT game_session_id, MAX(t), SUM(CASE WHEN t < prev_t THEN 1 ELSE 0 END)
        FROM (
            SELECT game_session_id, t,
                   LAG(t) OVER (PARTITION BY game_session_id ORDER BY seq) AS prev_t
            FROM {table}
            WHERE game_session_id IN ({placeholders})
        ) AS ordered
        GROUP BY game_session_id
    """  # noqa: S608 - table name from model metadata, values are parameters  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(sql, list(game_session_ids))
        rows = cursor.fetchall()
    frame = pd.DataFrame(rows, columns=["session", *columns]).set_index("session")
    frame["duration_ms"] = frame["duration_ms"].astype(float)
    frame["out_of_order"] = frame["out_of_order"].fillna(0).astype(int)
    return frame
