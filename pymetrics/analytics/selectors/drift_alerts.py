"""Drift alerts: metrics whose recent distribution has moved away from the norm table.

For every metric of the organisation's current norm table, the population stability
index of its candidates who completed in the last :data:`RECENT_DAYS` days against
the norm population (:mod:`pymetrics.analytics.stats.drift`). A metric is an alert
when its PSI is above :data:`ALERT_PSI` (0.2) and beyond what sampling alone gives
for that many candidates (the noise level): small groups drift by chance. Metrics
read from fewer than 30 candidates are not judged.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from pymetrics.accounts.models import Organization
from pymetrics.analytics.cache import cached
from pymetrics.analytics.selectors.trends import (
    RECENT_DAYS,
    analytics_scopes,
    completed_attempts,
    metric_info,
    metric_values_by_attempt,
)
from pymetrics.analytics.stats.drift import MIN_N, drift_against_norm
from pymetrics.scoring.selectors import current_norm_table

#: PSI above which a metric's drift is an alert (a shift worth a look before it is
#: "significant" at 0.25)
ALERT_PSI = 0.2


def drift_alerts(*, organization: Organization) -> dict[str, Any]:
    """``{"norm_table", "window_days", "recent", "alert_psi", "checked", "alerts": [...]}``,
    cached. ``recent`` counts the attempts completed in the window (``completed``) and
    the simulated ones among them (``simulated``).

    Each alert: ``{"metric", "game", "game_title", "description", "n", "psi",
    "noise_level", "status"}``,
    largest PSI first.
    """
    return cached(
        f"drift-alerts:{organization.pk}",
        analytics_scopes(organization),
        lambda: _alerts(organization),
        ttl_s=900,
    )


def _alerts(organization: Organization) -> dict[str, Any]:
    since = timezone.now() - timedelta(days=RECENT_DAYS)
    attempts = completed_attempts(organization=organization).filter(completed_at__gte=since)
    window = attempts.aggregate(
        completed=Count("pk"), simulated=Count("pk", filter=Q(candidate__is_simulated=True))
    )
    table = current_norm_table(organization_id=organization.pk)
    if table is None:
        return {
            "norm_table": None,
            "window_days": RECENT_DAYS,
            "recent": window,
            "alert_psi": ALERT_PSI,
            "checked": 0,
            "alerts": [],
        }
    keys = sorted(table.data.get("metrics", {}))
    values = metric_values_by_attempt(attempts, keys)
    alerts = []
    checked = 0
    for key in keys:
        norm = table.data["metrics"][key]
        recent = [found[key] for found in values.values() if key in found]
        if len(recent) < MIN_N:
            continue
        checked += 1
        drift = drift_against_norm(recent, norm["percentiles"], norm_n=int(norm["n"]))
        if drift.psi is None or drift.psi <= ALERT_PSI or not drift.beyond_noise:
            continue
        info = metric_info(key) or {}
        alerts.append(
            {
                "metric": key,
                "game": key.split(".")[0],
                "game_title": info.get("game_title", key.split(".")[0]),
                "description": info.get("description", ""),
                "n": drift.n,
                "psi": drift.psi,
                "noise_level": drift.noise_level,
                "status": drift.status,
            }
        )
    alerts.sort(key=lambda alert: -alert["psi"])
    return {
        "norm_table": {
            "id": table.pk,
            "name": table.name,
            "version": table.version,
            "simulated": table.is_simulated,
        },
        "window_days": RECENT_DAYS,
        "recent": window,
        "alert_psi": ALERT_PSI,
        "checked": checked,
        "alerts": alerts,
    }
