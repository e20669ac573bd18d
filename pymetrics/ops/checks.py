"""System checks of the operations settings (``manage.py check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def metrics_token_check(app_configs: Any = None, **_kwargs: Any) -> list[CheckMessage]:
    """/metrics without a token is readable by anyone the ingress lets in."""
    if settings.PYMETRICS_METRICS_TOKEN is not None:
        return []
    return [
        Warning(
            "PYMETRICS_METRICS_TOKEN is not set: /metrics answers anyone who reaches it.",
            hint=(
                "Set it to a long random token and give the same token to Prometheus "
                "(authorization: credentials), or keep /metrics off every public route "
                "(docs/operations.md, 'Metrics and alerts')."
            ),
            id="pymetrics.ops.W001",
        )
    ]
