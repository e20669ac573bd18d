"""``manage.py check --deploy`` is clean with the production environment docs/security.md lists."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_ALLOWED_HOSTS": "assess.example.com",
    "PYMETRICS_ENCRYPTION_KEYS": "dGVzdC1lbmNyeXB0aW9uLWtleS0wMTIzNDU2Nzg5YWI=",
    "DJANGO_SECURE_HSTS_SECONDS": "31536000",
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "DJANGO_SECURE_HSTS_PRELOAD": "1",
    "DJANGO_SECURE_SSL_REDIRECT": "1",
    "DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    "PYMETRICS_METRICS_TOKEN": "kU3o0rJ6Yp-1c2d3e4f5g6h7i8j9k0l1m2n3o4p5",
}


def _check(extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYMETRICS_", "DATABASE_URL", "REDIS_URL"))
    }
    environment.update(
        {
            **PRODUCTION,
            # a real-looking key: long, random, not the development default
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            **extra,
        }
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_deploy_checks_pass_with_the_production_environment():
    result = _check({})

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_without_https_settings_the_deploy_checks_name_what_is_missing():
    result = _check({"DJANGO_SECURE_HSTS_SECONDS": "0", "DJANGO_SECURE_SSL_REDIRECT": "0"})

    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "security.W004" in output
    assert "security.W008" in output


def test_without_a_metrics_token_the_deploy_checks_warn_that_metrics_are_open():
    result = _check({"PYMETRICS_METRICS_TOKEN": ""})

    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "pymetrics.ops.W001" in output
    assert "PYMETRICS_METRICS_TOKEN is not set" in output
    assert "System check identified 1 issue" in output
