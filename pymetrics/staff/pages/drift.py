"""Staff page of drift alerts: metrics whose recent candidates moved away from the norm table.

``staff:fit-drift`` shows what :func:`pymetrics.analytics.selectors.drift_alerts.drift_alerts`
found for the viewer's organisation: each metric whose candidates of the last 28
days have a population stability index above 0.2 against the norm table, beyond
what sampling alone gives for that many candidates, with a chart of those PSIs and
the alert line; how many metrics were checked, the window and the norm table; and
a sentence of its own for each empty state (no norm table, nothing checked, no
alert). The words and colours of the readings are the Trends page's, which charts
the same PSI per trait week by week. Every role reads it; it names no candidate.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from pymetrics.accounts.permissions import actor_for_request
from pymetrics.analytics.selectors.drift_alerts import drift_alerts
from pymetrics.analytics.stats.drift import MIN_N
from pymetrics.staff.charts import REFERENCE_AXIS, chart, colour, reference_line
from pymetrics.staff.pages.fitmodels import no_organization_page, number_text
from pymetrics.staff.pages.trends import STATUS_CLASSES, STATUS_COLOURS, drift_reading


def alert_rows(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each alert as the table shows it; the reading in the Trends page's words."""
    rows = []
    for alert in alerts:
        # every alert is beyond the sampling noise: that is what makes it one
        row_class, cell_class = STATUS_CLASSES.get(alert["status"], ("", ""))
        rows.append(
            {
                "metric": alert["metric"],
                "game": alert["game"],
                "game_title": alert["game_title"],
                "description": alert["description"],
                "n": alert["n"],
                "psi": alert["psi"],
                "psi_text": number_text(alert["psi"]),
                "noise_level": alert["noise_level"],
                "noise_text": number_text(alert["noise_level"]),
                "status": alert["status"],
                "reading": drift_reading({**alert, "beyond_noise": True}, MIN_N),
                "row_class": row_class,
                "cell_class": cell_class,
            }
        )
    return rows


def alerts_chart(
    rows: list[dict[str, Any]], *, alert_psi: float, window_days: int, simulated: bool
) -> dict[str, Any]:
    """PSI per alerting metric, coloured by reading, with its noise level and the alert line."""
    labels = [row["metric"] for row in rows]
    return chart(
        "drift-alerts",
        kind="bar",
        title=_("Metrics drifting from the norms in the last %(days)s days")
        % {"days": window_days},
        summary=_(
            "Population stability index of each alerting metric's candidates against the "
            "norm population's deciles. The dashed line is the alert line (%(alert)s); the "
            "diamonds are the PSI that sampling alone stays below 95%% of the time for that many "
            "candidates."
        )
        % {"alert": alert_psi},
        labels=labels,
        datasets=[
            {
                "type": "bar",
                "label": _("PSI"),
                "data": [row["psi"] for row in rows],
                "backgroundColor": [STATUS_COLOURS[row["status"]] for row in rows],
                "maxBarThickness": 40,
                "grouped": False,  # see REFERENCE_AXIS
                "order": 3,
            },
            {
                "type": "line",
                "label": _("Sampling noise (95%)"),
                "data": [row["noise_level"] for row in rows],
                "showLine": False,
                "pointRadius": 5,
                "pointStyle": "rectRot",
                "borderColor": colour(7),
                "backgroundColor": colour(7, 0.6),
                "order": 1,
            },
            reference_line(
                _("%(value)s: alert line") % {"value": alert_psi},
                alert_psi,
                colour="#9b1c1c",
                dash=[6, 4],
            ),
        ],
        options={
            "scales": {
                "y": {"beginAtZero": True, "title": {"display": True, "text": "PSI"}},
                **REFERENCE_AXIS,
            }
        },
        columns=[
            _("Metric"),
            _("Game"),
            _("Candidates"),
            _("PSI"),
            _("Sampling noise (95%)"),
            _("Reading"),
        ],
        rows=[
            [
                row["metric"],
                row["game_title"],
                row["n"],
                row["psi"],
                row["noise_level"],
                row["reading"],
            ]
            for row in rows
        ],
        simulated=simulated,
    )


@login_required
@require_safe
def page(request: HttpRequest) -> HttpResponse:
    """The organisation's drift alerts (every role reads them)."""
    actor = actor_for_request(request)
    if actor is None:
        return no_organization_page(request)
    found = drift_alerts(organization=actor.organization)
    recent = found["recent"]
    norm_table = found["norm_table"]
    simulated = bool(recent["simulated"]) or bool(norm_table and norm_table["simulated"])
    rows = alert_rows(found["alerts"])
    return render(
        request,
        "staff/fitmodels/drift.html",
        {
            "organization": actor.organization,
            "nav": "fit",
            "found": found,
            "norm_table": norm_table,
            "recent": recent,
            "simulated": simulated,
            "min_n": MIN_N,
            "alerts": rows,
            "chart": alerts_chart(
                rows,
                alert_psi=found["alert_psi"],
                window_days=found["window_days"],
                simulated=simulated,
            )
            if rows
            else None,
        },
    )
