"""The alert rules and the Grafana dashboard only use metrics that ``/metrics`` exposes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from pymetrics.ops.metrics import COLLECTOR

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
ALERTS = DEPLOY / "prometheus" / "alerts.yaml"
DASHBOARD = DEPLOY / "grafana" / "pymetrics.json"

#: Series Prometheus makes itself, not the application.
SYNTHETIC = {"up"}
#: PromQL words that look like metric names: operators, modifiers, keywords.
KEYWORDS = {
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "inf",
    "nan",
}
#: Each alert's limits, as the status page's (pymetrics/analytics/stats/thresholds.py).
LIMITS = {
    "PymetricsIngestionSlow": ("warning", "> 0.25"),
    "PymetricsIngestionFarBehind": ("critical", "> 1"),
    "PymetricsServerErrors": ("warning", "> 0.01"),
    "PymetricsServerErrorsHigh": ("critical", "> 0.05"),
    "PymetricsScoringLagging": ("warning", "> 60"),
    "PymetricsScoringStalled": ("critical", "> 300"),
    "PymetricsQueueBacklog": ("warning", "> 100"),
    "PymetricsQueueFlooded": ("critical", "> 1000"),
    "PymetricsTaskFailures": ("warning", "> 0.1"),
    "PymetricsTargetDown": ("critical", "== 0"),
    "PymetricsNoWorker": ("critical", "== 1"),
}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings (label values, regexes)
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range durations
    # label lists of by/without/on/ignoring/group_*
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\$\w+|\$\{[^}]*\}", "", text)  # dashboard variables
    names = set()
    for match in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?", text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in KEYWORDS:
            continue  # a function, an aggregation or a keyword
        names.add(name)
    return names


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    # a variable's label_values(<series>, <label>): the series is PromQL, the label is not
    exprs += [
        re.sub(r"^label_values\((.*),\s*\w+\)$", r"\1", variable["query"]["query"])
        for variable in dashboard["templating"]["list"]
        if variable["type"] == "query"
    ]
    return exprs


def exposed_series() -> set[str]:
    """Every series name a scrape can hold: histograms' and counters' suffixes included."""
    COLLECTOR.forget()
    text = Client().get("/metrics").content.decode()
    names = set()
    for family in text_string_to_metric_families(text):
        if family.type == "histogram":
            names |= {f"{family.name}_bucket", f"{family.name}_sum", f"{family.name}_count"}
        elif family.type == "counter":
            names.add(f"{family.name}_total")
        else:
            names.add(family.name)
    return names


def test_names_are_read_from_promql():
    expr = (
        "sum by (le, view) (rate(django_http_requests_latency_seconds_by_view_method_bucket"
        '{status=~"5..", job=~"$job"}[5m])) / on (job) group_left (x) max(up) > bool 0.5'
        " and absent(pymetrics_queue_depth offset 5m)"
    )

    assert metric_names(expr) == {
        "django_http_requests_latency_seconds_by_view_method_bucket",
        "up",
        "pymetrics_queue_depth",
    }


def test_every_metric_of_the_alerts_and_the_dashboard_is_exposed(db):
    exposed = exposed_series() | SYNTHETIC
    used = {
        source: metric_names(expr)
        for source, expr in [
            *((f"alert {rule['alert']}", rule["expr"]) for rule in alert_rules()),
            *((f"dashboard: {expr}", expr) for expr in dashboard_exprs()),
        ]
    }

    missing = {source: names - exposed for source, names in used.items() if names - exposed}
    assert missing == {}
    # and they are read at all (the extraction found names in every expression)
    assert all(used.values())


def test_the_alerts_judge_by_the_status_page_s_limits():
    rules = {rule["alert"]: rule for rule in alert_rules()}

    assert set(rules) == set(LIMITS)
    for name, (severity, limit) in LIMITS.items():
        assert rules[name]["labels"]["severity"] == severity, name
        assert limit in rules[name]["expr"], name
        assert rules[name]["annotations"]["summary"], name


def test_the_dashboard_has_a_panel_for_every_metric_of_the_platform(db):
    used = set().union(*(metric_names(expr) for expr in dashboard_exprs()))
    families = {
        family.name
        for family in text_string_to_metric_families(Client().get("/metrics").content.decode())
        if family.name.startswith("pymetrics_")
    }

    def shown(family: str) -> bool:
        return any(name == family or name.startswith(f"{family}_") for name in used)

    assert sorted(family for family in families if not shown(family)) == []


def test_the_dashboard_is_importable_grafana_json():
    dashboard = json.loads(DASHBOARD.read_text())

    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert dashboard["uid"] == "pymetrics-overview"
    # no data source of this or that installation: the user picks one on import
    assert {
        panel["datasource"]["uid"] for panel in dashboard["panels"] if "datasource" in panel
    } == {"${datasource}"}


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian: prometheus)")
def test_the_rules_and_every_dashboard_query_are_valid_promql(tmp_path):
    # the alert file as it is
    checked = subprocess.run(
        ["promtool", "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # the dashboard's queries as recording rules, variables replaced by what they match
    rules = [
        {"record": f"dashboard:query{index}", "expr": re.sub(r"\$\w+", "pymetrics-.*", expr)}
        for index, expr in enumerate(dashboard_exprs())
    ]
    path = tmp_path / "dashboard-rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    checked = subprocess.run(
        ["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
