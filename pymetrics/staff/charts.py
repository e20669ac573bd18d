"""Chart specifications for the staff pages (drawn by ``staff/charts.js``).

A view builds each chart here, from numbers its selectors computed, and renders it
with ``{% include "staff/includes/chart.html" with chart=... %}``. Every chart
carries its data twice on purpose: as Chart.js datasets to draw, and as a plain
table (columns and rows) that the page shows as an accessible table and offers as
a CSV download, so neither depends on reading pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

#: The palette (colour-blind safe, Okabe & Ito 2008), in the order series take it.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)


def colour(index: int, alpha: float = 1.0) -> str:
    """The ``index``-th palette colour, optionally translucent (``rgba``)."""
    hex_colour = PALETTE[index % len(PALETTE)]
    if alpha >= 1.0:
        return hex_colour
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def _finite(value: Any) -> Any:
    """NaN and infinities become None (JSON has no such numbers; a gap is drawn)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _finite(value.item())
    return value


def chart(
    chart_id: str,
    *,
    kind: str,
    title: str,
    labels: Sequence[Any] = (),
    datasets: Sequence[dict[str, Any]] = (),
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    summary: str = "",
    options: dict[str, Any] | None = None,
    zoom: bool = False,
    simulated: bool = False,
    size: str = "",
) -> dict[str, Any]:
    """One chart: ``kind`` is a Chart.js type (``bar``, ``line``, ``radar``, ``matrix``...).

    ``columns`` and ``rows`` are the accessible table and the CSV download; the first
    column names each row. ``simulated`` marks numbers that come from bots.
    """
    if any(len(row) != len(columns) for row in rows):
        raise ValueError(f"chart {chart_id!r}: every table row needs {len(columns)} cells")
    return _finite(
        {
            "id": chart_id,
            "script_id": f"chart-{chart_id}-data",
            "type": kind,
            "title": str(title),
            "summary": str(summary),
            "labels": list(labels),
            "datasets": [dict(dataset) for dataset in datasets],
            "options": options or {},
            "zoom": zoom,
            "simulated": simulated,
            "size": size,
            "table": {"columns": [str(c) for c in columns], "rows": [list(r) for r in rows]},
        }
    )


#: A hidden linear x axis from 0 to 1 that reference lines are drawn on, so that they span
#: the whole plot even when the bars have a single category (a line through one
#: category's point would be a point). The category axis is named first: Chart.js puts
#: a dataset without an axis id on the first x scale of the options. The bars next to
#: such a line are drawn with ``grouped: False``: grouped, Chart.js leaves them a slot
#: beside the line's and draws them off their category's centre.
REFERENCE_AXIS = {
    "x": {"type": "category"},
    # displayed (a hidden scale gets no width to draw on) but with nothing to see
    "reference": {
        "type": "linear",
        "axis": "x",
        "position": "bottom",
        "offset": False,
        "min": 0,
        "max": 1,
        "ticks": {"display": False},
        "grid": {"display": False, "drawTicks": False},
        "border": {"display": False},
    },
}


def reference_line(label: str, value: float, *, colour: str, dash: list[int]) -> dict[str, Any]:
    """A horizontal line at ``value`` across a bar chart whose options hold REFERENCE_AXIS."""
    return {
        "type": "line",
        "label": label,
        "data": [{"x": 0, "y": value}, {"x": 1, "y": value}],
        "xAxisID": "reference",
        "borderColor": colour,
        "borderDash": dash,
        "borderWidth": 1.5,
        "pointRadius": 0,
        "pointHitRadius": 0,
        "fill": False,
        "order": 1,
    }
