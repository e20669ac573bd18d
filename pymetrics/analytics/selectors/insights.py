"""The behavioural insights page's read model: histograms, correlations and notes.

All three are about the organisation's completed attempts (optionally of one
assessment), each game session's newest metrics, and the organisation's current
norm table:

* :func:`insights_histogram`: one metric's histogram, with the count each bin
  would hold if the candidates were like the norm group (when the norm table has
  the metric);
* :func:`insights_correlations`: Spearman's rho between chosen metrics;
* :func:`insights_notes`: the metrics on which the candidates of the last
  :data:`~pymetrics.analytics.selectors.trends.RECENT_DAYS` days differ from the
  norm group by a sizeable and statistically clear amount
  (:func:`pymetrics.analytics.stats.insights.notable_differences`).

Each is cached apart (choosing another metric does not recompute the notes) under
the organisation's and the shared norms' scopes. Plain JSON types; None where a
number does not exist.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from pymetrics.accounts.models import Organization
from pymetrics.analytics.cache import cached
from pymetrics.analytics.selectors.trends import (
    RECENT_DAYS,
    analytics_scopes,
    completed_attempts,
    metric_info,
    metric_values_by_attempt,
    norm_metric,
    norm_table_summary,
    scope_games,
    scope_name,
)
from pymetrics.analytics.stats.insights import (
    ALPHA,
    MIN_EFFECT_SD,
    MIN_NOTE_N,
    columns_from_records,
    compare_with_norm,
    histogram,
    norm_expected_counts,
    notable_differences,
    spearman_matrix,
)
from pymetrics.assessments.models import Assessment
from pymetrics.games.registry import get_game
from pymetrics.scoring.selectors import current_norm_table

#: Most metrics in one correlation heatmap (a 20 x 20 grid is still readable).
MAX_HEATMAP_METRICS = 20
#: Most notes shown (the largest differences first).
MAX_NOTES = 8


def insights_histogram(
    *, organization: Organization, key: str, assessment: Assessment | None = None
) -> dict[str, Any]:
    """One metric's distribution over the completed candidates. Shape::

    {
      "key", "game", "game_title", "name", "description", "unit",
      "n": candidates with the metric, "mean": float | None,
      "edges": [float, ...] (one more than counts), "counts": [int, ...],
      "discrete": bool (one bin per whole number),
      "simulated": bool (some of these candidates are bots),
      "norm": {"n", "mean", "sd"} | None,
      "norm_expected": [float per bin] | None (n x the norm's share of each bin),
      "norm_table": {... as trends_overview} | None,
    }
    """
    info = metric_info(key)
    if info is None:
        raise ValueError(f"unknown metric {key!r}")
    return cached(
        f"insights-histogram:{scope_name(organization, assessment)}:{key}",
        analytics_scopes(organization),
        lambda: _histogram(organization, assessment, info),
    )


def _histogram(
    organization: Organization, assessment: Assessment | None, info: dict[str, Any]
) -> dict[str, Any]:
    key = info["key"]
    attempts = completed_attempts(organization=organization, assessment=assessment)
    values = [
        found[key] for found in metric_values_by_attempt(attempts, [key]).values() if key in found
    ]
    table = current_norm_table(organization_id=organization.pk)
    norm = norm_metric(table, key)
    percentiles = norm["percentiles"] if norm else None
    counted = histogram(values, percentiles)
    return {
        **info,
        "n": counted.n,
        "mean": sum(values) / len(values) if values else None,
        "edges": list(counted.edges),
        "counts": list(counted.counts),
        "discrete": counted.discrete,
        "simulated": attempts.filter(candidate__is_simulated=True).exists(),
        "norm": {"n": norm["n"], "mean": norm["mean"], "sd": norm["sd"]} if norm else None,
        "norm_expected": list(norm_expected_counts(counted, percentiles))
        if percentiles is not None and counted.n
        else None,
        "norm_table": norm_table_summary(table),
    }


def insights_correlations(
    *, organization: Organization, keys: Sequence[str], assessment: Assessment | None = None
) -> dict[str, Any]:
    """Spearman's rho between ``keys`` (known ``"game.metric"`` keys, at most 20). Shape::

    {
      "keys": [...], "candidates": completed attempts looked at,
      "rho": [[float | None, ...], ...] (k x k, symmetric, None: too few pairs),
      "n": [[int, ...], ...] (candidates with both metrics),
      "simulated": bool,
    }
    """
    keys = list(dict.fromkeys(keys))[:MAX_HEATMAP_METRICS]
    for key in keys:
        if metric_info(key) is None:
            raise ValueError(f"unknown metric {key!r}")
    digest = hashlib.sha256(",".join(keys).encode()).hexdigest()[:16]
    return cached(
        f"insights-correlations:{scope_name(organization, assessment)}:{digest}",
        analytics_scopes(organization),
        lambda: _correlations(organization, assessment, keys),
    )


def _correlations(
    organization: Organization, assessment: Assessment | None, keys: list[str]
) -> dict[str, Any]:
    attempts = completed_attempts(organization=organization, assessment=assessment)
    records = list(metric_values_by_attempt(attempts, keys).values())
    matrix = spearman_matrix(columns_from_records(records, keys))
    return {
        "keys": keys,
        "candidates": len(records),
        "rho": [list(row) for row in matrix.rho],
        "n": [list(row) for row in matrix.n],
        "simulated": attempts.filter(candidate__is_simulated=True).exists(),
    }


def insights_notes(
    *, organization: Organization, assessment: Assessment | None = None
) -> dict[str, Any]:
    """Where the last four weeks' candidates differ from the norm group. Shape::

    {
      "recent": {"days": 28, "since": ISO time, "completed": int},
      "tested": metrics compared (enough candidates, a norm for it),
      "notes": [{"key", "game", "game_title", "name", "description", "unit",
                 "n", "mean", "norm_mean", "norm_sd", "norm_n",
                 "difference_sd", "relative" (fraction | None), "p", "q",
                 "direction": "higher" | "lower"}] (largest first, at most 8),
      "norm_table": {...} | None, "simulated": bool,
      "rules": {"min_n": 10, "min_effect_sd": 0.5, "alpha": 0.05},
    }
    """
    today = timezone.localdate()
    return cached(
        f"insights-notes:{scope_name(organization, assessment)}:{today.isoformat()}",
        analytics_scopes(organization),
        lambda: _notes(organization, assessment, timezone.now()),
    )


def _notes(
    organization: Organization, assessment: Assessment | None, now: datetime
) -> dict[str, Any]:
    since = now - timedelta(days=RECENT_DAYS)
    recent = completed_attempts(organization=organization, assessment=assessment).filter(
        completed_at__gte=since
    )
    table = current_norm_table(organization_id=organization.pk)
    norms = table.data.get("metrics", {}) if table is not None else {}
    keys = [
        f"{game}.{metric.name}"
        for game in scope_games(organization=organization, assessment=assessment)
        for metric in get_game(game).metrics
        if f"{game}.{metric.name}" in norms
    ]
    records = list(metric_values_by_attempt(recent, keys).values()) if keys else []
    comparisons = []
    for key in keys:
        norm = norms[key]
        found = compare_with_norm(
            key,
            [record[key] for record in records if key in record],
            norm_n=int(norm["n"]),
            norm_mean=float(norm["mean"]),
            norm_sd=float(norm["sd"]),
        )
        if found is not None:
            comparisons.append(found)
    notable = notable_differences(comparisons)
    notes = []
    for comparison in notable[:MAX_NOTES]:
        info = metric_info(comparison.key) or {"key": comparison.key}
        notes.append(
            {
                **info,
                "n": comparison.n,
                "mean": comparison.mean,
                "norm_mean": comparison.norm_mean,
                "norm_sd": comparison.norm_sd,
                "norm_n": comparison.norm_n,
                "difference_sd": comparison.difference_sd,
                "relative": comparison.relative,
                "p": comparison.p,
                "q": comparison.q,
                "direction": "higher" if comparison.difference_sd > 0 else "lower",
            }
        )
    return {
        "recent": {"days": RECENT_DAYS, "since": since.isoformat(), "completed": recent.count()},
        "tested": sum(1 for c in comparisons if c.n >= MIN_NOTE_N),
        "notes": notes,
        "norm_table": norm_table_summary(table),
        "simulated": recent.filter(candidate__is_simulated=True).exists(),
        "rules": {"min_n": MIN_NOTE_N, "min_effect_sd": MIN_EFFECT_SD, "alpha": ALPHA},
    }
