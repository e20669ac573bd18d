"""The environment reader (DESIGN.md 4.1): defaults, URL parsing, and loud failures."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from config.env import ConfigurationError, load

SECRET = "s" * 50
FERNET_KEY = base64.urlsafe_b64encode(b"k" * 32).decode()
SHORT_KEY = base64.urlsafe_b64encode(b"short").decode()
PRODUCTION = {
    "DJANGO_SECRET_KEY": SECRET,
    "DJANGO_ALLOWED_HOSTS": "assess.example.org",
    "PYMETRICS_ENCRYPTION_KEYS": FERNET_KEY,
}
SQLITE_OPTIONS = {
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}


def test_nothing_set_is_the_embedded_default(tmp_path):
    # given an empty environment
    # when it is loaded
    env = load(environ={}, base_dir=tmp_path)

    # then it is SQLite under var/, debug on, in-process services, development keys
    assert env.database == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": tmp_path / "var" / "pymetrics.sqlite3",
        "OPTIONS": SQLITE_OPTIONS,
    }
    assert env.debug is True
    assert env.embedded is True
    assert (env.database_url, env.redis_url, env.celery_broker_url) == (None, None, None)
    assert env.allowed_hosts == ("127.0.0.1", "localhost", "[::1]")
    assert env.secret_key_is_default is True
    assert env.metrics_token is None  # /metrics answers without a token
    assert len(env.secret_key) >= 50
    assert env.encryption_keys_are_default is True
    assert len(base64.urlsafe_b64decode(env.encryption_keys[0])) == 32
    assert (env.sentry_dsn, env.otel_endpoint) == (None, None)
    assert env.reaudit_interval_days == 7
    assert (env.retention_interval_s, env.exports_dir) == (3600, None)


def test_a_postgres_url_becomes_the_django_database_entry(tmp_path):
    env = load(
        environ={**PRODUCTION, "DATABASE_URL": "postgres://app:s%40cret@db.internal:6543/assess"},
        base_dir=tmp_path,
    )

    assert env.database == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "assess",
        "USER": "app",
        "PASSWORD": "s@cret",
        "HOST": "db.internal",
        "PORT": "6543",
        "OPTIONS": {
            "pool": {"min_size": 2, "max_size": 20, "timeout": 10},
            "prepare_threshold": 2,
        },
        "CONN_MAX_AGE": 0,
    }
    assert env.debug is False
    assert env.embedded is False


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            "postgresql://postgres@127.0.0.1/pymetrics",
            {"NAME": "pymetrics", "USER": "postgres", "PASSWORD": "", "HOST": "127.0.0.1"},
            id="no-password-no-port",
        ),
        pytest.param(
            "postgres://u:p@h:5432/db?sslmode=require",
            {"NAME": "db", "USER": "u", "PASSWORD": "p", "HOST": "h", "PORT": "5432"},
            id="sslmode",
        ),
    ],
)
def test_postgres_url_variants(tmp_path, url, expected):
    env = load(environ={**PRODUCTION, "DATABASE_URL": url}, base_dir=tmp_path)

    assert {key: env.database[key] for key in expected} == expected
    assert env.database["PORT"] == expected.get("PORT", "")
    sslmode = {"sslmode": "require"} if "sslmode" in url else {}
    assert env.database["OPTIONS"] == {
        "pool": {"min_size": 2, "max_size": 20, "timeout": 10},
        "prepare_threshold": 2,
        **sslmode,
    }


def test_a_relative_sqlite_url_is_under_base_dir(tmp_path):
    env = load(
        environ={**PRODUCTION, "DATABASE_URL": "sqlite:///data/app.sqlite3"}, base_dir=tmp_path
    )

    assert env.database == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": tmp_path / "data" / "app.sqlite3",
        "OPTIONS": SQLITE_OPTIONS,
    }


def test_an_absolute_sqlite_url_is_taken_as_is(tmp_path):
    env = load(
        environ={**PRODUCTION, "DATABASE_URL": "sqlite:////srv/pymetrics/db.sqlite3"},
        base_dir=tmp_path,
    )

    assert env.database == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": Path("/srv/pymetrics/db.sqlite3"),
        "OPTIONS": SQLITE_OPTIONS,
    }


def test_any_database_url_turns_debug_off_by_default(tmp_path):
    # a DATABASE_URL means "not the embedded default": production rules apply
    with pytest.raises(ConfigurationError) as raised:
        load(environ={"DATABASE_URL": "sqlite:///db.sqlite3"}, base_dir=tmp_path)

    assert raised.value.variable == "DJANGO_SECRET_KEY"


@pytest.mark.parametrize(
    ("value", "debug"),
    [
        pytest.param("1", True, id="1"),
        pytest.param("true", True, id="true"),
        pytest.param(" YES ", True, id="yes-padded-upper"),
        pytest.param("on", True, id="on"),
        pytest.param("0", False, id="0"),
        pytest.param("false", False, id="false"),
        pytest.param("no", False, id="no"),
        pytest.param("off", False, id="off"),
    ],
)
def test_django_debug_values(tmp_path, value, debug):
    env = load(environ={**PRODUCTION, "DJANGO_DEBUG": value}, base_dir=tmp_path)

    assert env.debug is debug


@pytest.mark.parametrize(
    ("environ", "variable", "message_part"),
    [
        pytest.param(
            {**PRODUCTION, "DATABASE_URL": "mysql://u:p@h/db"},
            "DATABASE_URL",
            "unsupported scheme 'mysql'",
            id="wrong-database-scheme",
        ),
        pytest.param(
            {**PRODUCTION, "DATABASE_URL": "postgres://u:p@h:fivefour/db"},
            "DATABASE_URL",
            "the port is not a number",
            id="non-numeric-port",
        ),
        pytest.param(
            {**PRODUCTION, "DATABASE_URL": "postgres://u:p@h:5432/"},
            "DATABASE_URL",
            "needs a database name",
            id="postgres-without-name",
        ),
        pytest.param(
            {**PRODUCTION, "DATABASE_URL": "sqlite:///"},
            "DATABASE_URL",
            "needs a file path",
            id="sqlite-without-path",
        ),
        pytest.param(
            {"DJANGO_DEBUG": "maybe"},
            "DJANGO_DEBUG",
            "got 'maybe'",
            id="bad-debug-value",
        ),
        pytest.param(
            {"DJANGO_SECRET_KEY": "too-short"},
            "DJANGO_SECRET_KEY",
            "at least 50 characters",
            id="short-secret",
        ),
        pytest.param(
            {"DJANGO_DEBUG": "0", "DJANGO_ALLOWED_HOSTS": "a.example"},
            "DJANGO_SECRET_KEY",
            "is required when DJANGO_DEBUG is off",
            id="missing-secret-with-debug-off",
        ),
        pytest.param(
            {**PRODUCTION, "DJANGO_DEBUG": "0", "PYMETRICS_ENCRYPTION_KEYS": "not-a-fernet-key"},
            "PYMETRICS_ENCRYPTION_KEYS",
            "key 1 is not a url-safe base64 encoded 32-byte Fernet key",
            id="bad-fernet-key",
        ),
        pytest.param(
            {
                **PRODUCTION,
                "PYMETRICS_ENCRYPTION_KEYS": f"{FERNET_KEY},{SHORT_KEY}",
            },
            "PYMETRICS_ENCRYPTION_KEYS",
            "key 2 is not",
            id="second-fernet-key-too-short",
        ),
        pytest.param(
            {**PRODUCTION, "DJANGO_DEBUG": "0", "PYMETRICS_ENCRYPTION_KEYS": " "},
            "PYMETRICS_ENCRYPTION_KEYS",
            "is required when DJANGO_DEBUG is off",
            id="missing-encryption-keys-with-debug-off",
        ),
        pytest.param(
            {"DJANGO_DEBUG": "off", "DJANGO_SECRET_KEY": SECRET},
            "DJANGO_ALLOWED_HOSTS",
            "is required when DJANGO_DEBUG is off",
            id="missing-allowed-hosts-with-debug-off",
        ),
        pytest.param(
            {**PRODUCTION, "DJANGO_ALLOWED_HOSTS": " , "},
            "DJANGO_ALLOWED_HOSTS",
            "lists no host",
            id="empty-allowed-hosts",
        ),
        pytest.param(
            {**PRODUCTION, "REDIS_URL": "http://cache:6379"},
            "REDIS_URL",
            "expected a redis://",
            id="wrong-redis-scheme",
        ),
        pytest.param(
            {**PRODUCTION, "CELERY_BROKER_URL": "sqs://queue"},
            "CELERY_BROKER_URL",
            "expected a redis:// or amqp://",
            id="wrong-broker-scheme",
        ),
        pytest.param(
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317"},
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "expected an http(s) URL",
            id="otel-without-scheme",
        ),
        pytest.param(
            {"SENTRY_DSN": "ftp://key@sentry.example/1"},
            "SENTRY_DSN",
            "expected an http(s) DSN",
            id="sentry-wrong-scheme",
        ),
        pytest.param(
            {"PYMETRICS_REAUDIT_INTERVAL_DAYS": "0"},
            "PYMETRICS_REAUDIT_INTERVAL_DAYS",
            "expected a whole number of at least 1; got '0'",
            id="reaudit-interval-zero",
        ),
        pytest.param(
            {"PYMETRICS_REAUDIT_INTERVAL_DAYS": "1.5"},
            "PYMETRICS_REAUDIT_INTERVAL_DAYS",
            "expected a whole number of at least 1; got '1.5'",
            id="reaudit-interval-fraction",
        ),
        pytest.param(
            {"PYMETRICS_METRICS_TOKEN": "short-token"},
            "PYMETRICS_METRICS_TOKEN",
            "expected at least 32 letters, digits or -._~+/=",
            id="metrics-token-short",
        ),
        pytest.param(
            {"PYMETRICS_METRICS_TOKEN": "a token with spaces that is long enough"},
            "PYMETRICS_METRICS_TOKEN",
            "expected at least 32 letters, digits or -._~+/=",
            id="metrics-token-unsafe",
        ),
        pytest.param(
            {"PYMETRICS_RETENTION_INTERVAL_S": "-5"},
            "PYMETRICS_RETENTION_INTERVAL_S",
            "expected a whole number of at least 1; got '-5'",
            id="retention-interval-negative",
        ),
    ],
)
def test_a_wrong_value_raises_naming_the_variable(tmp_path, environ, variable, message_part):
    with pytest.raises(ConfigurationError) as raised:
        load(environ=environ, base_dir=tmp_path)

    assert raised.value.variable == variable
    assert str(raised.value).startswith(f"{variable}: ")
    assert message_part in str(raised.value)


def test_several_encryption_keys_are_kept_newest_first(tmp_path):
    older = base64.urlsafe_b64encode(b"o" * 32).decode()

    env = load(
        environ={**PRODUCTION, "PYMETRICS_ENCRYPTION_KEYS": f" {FERNET_KEY} , {older}"},
        base_dir=tmp_path,
    )

    assert env.encryption_keys == (FERNET_KEY.encode(), older.encode())
    assert env.encryption_keys_are_default is False


def test_production_values_are_read_as_given(tmp_path):
    env = load(
        environ={
            **PRODUCTION,
            "DATABASE_URL": "postgres://u@h/db",
            "REDIS_URL": "redis://cache:6379/0",
            "CELERY_BROKER_URL": "amqp://mq//",
            "DJANGO_ALLOWED_HOSTS": "a.example, b.example,",
            "SENTRY_DSN": "https://key@sentry.example/1",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
            "PYMETRICS_REAUDIT_INTERVAL_DAYS": " 30 ",
            "PYMETRICS_RETENTION_INTERVAL_S": "600",
            "PYMETRICS_EXPORTS_DIR": "/srv/pymetrics/exports",
            "PYMETRICS_METRICS_TOKEN": " kU3o0rJ6Yp-1c2d3e4f5g6h7i8j9k0l1m2n ",
        },
        base_dir=tmp_path,
    )

    assert env.metrics_token == "kU3o0rJ6Yp-1c2d3e4f5g6h7i8j9k0l1m2n"
    assert env.reaudit_interval_days == 30
    assert (env.retention_interval_s, env.exports_dir) == (600, "/srv/pymetrics/exports")

    assert env.secret_key == SECRET
    assert env.secret_key_is_default is False
    assert env.allowed_hosts == ("a.example", "b.example")
    assert (env.redis_url, env.celery_broker_url) == ("redis://cache:6379/0", "amqp://mq//")
    assert (env.sentry_dsn, env.otel_endpoint) == (
        "https://key@sentry.example/1",
        "http://collector:4318",
    )
    assert env.debug is False
