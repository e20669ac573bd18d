"""django-prometheus's request and response metrics, with bounded labels."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django_prometheus.middleware import PrometheusAfterMiddleware


class BoundedPrometheusAfterMiddleware(PrometheusAfterMiddleware):
    """django-prometheus's inner middleware, every ``method`` label a known method.

    The library labels its latency histogram with the request's method as sent: a
    client inventing methods would invent time series. Here every method label is
    one of HTTP's methods or ``<invalid method>``, as its other metrics already do.
    Views are labelled by URL name (a fixed set), never by path.
    """

    def label_metric(
        self, metric: Any, request: HttpRequest, response: Any = None, **labels: Any
    ) -> Any:
        if "method" in labels:
            labels["method"] = self._method(request)
        return super().label_metric(metric, request, response, **labels)
