"""The one place configuration is read from the environment.

Every setting the platform takes comes through :func:`load`, which validates all
variables together and fails at start-up with a message naming the variable, so a
typo in a deployment never turns into a half-working server.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


class ConfigurationError(RuntimeError):
    """An environment variable has a value the platform cannot use."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


@dataclass(frozen=True)
class Environment:
    """The validated configuration; ``None`` means the embedded default."""

    secret_key: str
    secret_key_is_default: bool
    debug: bool
    allowed_hosts: tuple[str, ...]
    database: dict[str, object]
    database_url: str | None
    redis_url: str | None
    celery_broker_url: str | None
    encryption_keys: tuple[bytes, ...]
    encryption_keys_are_default: bool
    sentry_dsn: str | None
    otel_endpoint: str | None
    reaudit_interval_days: int = 7
    #: seconds between two runs of the retention job (an hour by default)
    retention_interval_s: int = 3600
    #: where finished exports and data archives are written (None: var/exports)
    exports_dir: str | None = None
    #: seconds a signed export download link works after it is made
    export_link_max_age_s: int = 3600
    #: days a finished export's file is kept before the hourly purge deletes it
    export_keep_days: int = 7
    #: days an invite link works before it expires (unstarted attempts)
    invite_ttl_days: int = 30
    #: every rate limit by name (pymetrics.common.ratelimit): the defaults, overridden
    #: by PYMETRICS_RATE_LIMITS (None: the defaults)
    rate_limits: Mapping[str, str] | None = None
    #: False switches every rate limit off (PYMETRICS_RATE_LIMITS_ENABLED=0)
    rate_limits_enabled: bool = True
    #: candidate sockets open at once per game session and per client address
    sockets_per_session: int = 4
    sockets_per_ip: int = 1000
    #: HTTPS behind a TLS-terminating proxy (applied when DJANGO_DEBUG is off)
    hsts_seconds: int = 0
    hsts_include_subdomains: bool = True
    hsts_preload: bool = False
    ssl_redirect: bool = False
    proxy_ssl_header: tuple[str, str] | None = None
    #: reverse proxies in front of the web servers that append to X-Forwarded-For
    #: (0: the connection's own address is the client's)
    trusted_proxy_count: int = 0
    #: the bearer token a scraper must send to read /metrics (None: no token asked,
    #: which ``check --deploy`` warns about in production)
    metrics_token: str | None = None
    #: seconds between two runs of the audit log's sealer (entries join the hash chain)
    audit_seal_interval_s: int = 10
    #: failed staff log-ins (per e-mail and IP address) before that pair is locked out
    login_failure_limit: int = 5
    #: minutes a locked-out e-mail and IP address pair waits before trying again
    login_cooloff_minutes: int = 15
    #: seconds a staff session lasts at most after log-in, however active (12 hours)
    session_max_age_s: int = 12 * 3600
    #: seconds without a request after which a staff session ends (30 minutes)
    session_idle_s: int = 1800
    #: log lines as JSON objects ("json") or readable text ("console")
    log_format: str = "json"

    @property
    def embedded(self) -> bool:
        """True when no external service is configured (the laptop default)."""
        return self.database_url is None and self.redis_url is None


# Used only when DJANGO_SECRET_KEY / PYMETRICS_ENCRYPTION_KEYS are unset, which is
# refused unless DEBUG is on: fine for the embedded default, never for production.
_DEVELOPMENT_SECRET_KEY = "pymetrics-development-secret-key-not-for-production-use-0000"  # noqa: S105  # nosec B105
_DEVELOPMENT_ENCRYPTION_KEY = base64.urlsafe_b64encode(b"pymetrics-dev-key-not-for-prod!!")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(name, f"expected one of 1/0, true/false, yes/no, on/off; got {raw!r}")


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise ConfigurationError(name, f"expected a whole number of at least 1; got {raw!r}")
    return int(raw)


#: Rate limits by name, as ``<count>/<period>`` (s, m, h, d; ``20/10m`` is 20 per ten
#: minutes); docs/security.md explains each. Event ingestion is sized for a browser
#: client (one request per 250 ms at most, one in flight) and the bench (every
#: session's batches from one address, as fast as answers come).
DEFAULT_RATE_LIMITS: dict[str, str] = {
    # candidate pages under play/<invite_token>/ and POST /api/v1/play/<token>/start/
    "invite_ip": "600/m",
    # lookups of unknown invite tokens (guessing): refused for the rest of the window
    "invite_miss_ip": "20/10m",
    # POST /api/v1/play/game-sessions/<id>/events/
    "events_session": "600/m",
    "events_ip": "6000/m",
    # candidate sockets opened (/ws/play/<id>/)
    "socket_open_session": "60/m",
    "socket_open_ip": "1200/m",
    # export jobs and candidate data archives requested (page and API)
    "exports_user": "10/h",
    "exports_org": "50/h",
    "archives_user": "10/h",
    "archives_org": "50/h",
    # the candidate's feedback report PDF (about half a second of CPU each)
    "report_pdf_token": "10/10m",  # a rate, not a secret  # nosec B105
    "report_pdf_ip": "30/10m",
}
_RATE_SYNTAX = re.compile(r"^([1-9][0-9]*)/([1-9][0-9]*)?[smhd]$")


def _rate_limits(environ: Mapping[str, str]) -> dict[str, str]:
    """The defaults with PYMETRICS_RATE_LIMITS' overrides (``name=rate,name=rate``)."""
    limits = dict(DEFAULT_RATE_LIMITS)
    raw = environ.get("PYMETRICS_RATE_LIMITS", "").strip()
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, sep, rate = (piece.strip() for piece in item.partition("="))
        if not sep or name not in DEFAULT_RATE_LIMITS:
            raise ConfigurationError(
                "PYMETRICS_RATE_LIMITS",
                f"expected name=rate items with a name among {', '.join(DEFAULT_RATE_LIMITS)}; "
                f"got {item!r}",
            )
        rate = rate.replace(" ", "")
        if not _RATE_SYNTAX.match(rate):
            raise ConfigurationError(
                "PYMETRICS_RATE_LIMITS",
                f"{name}: expected <count>/<period> such as 30/m, 10/h or 20/10m; got {rate!r}",
            )
        limits[name] = rate
    return limits


def _non_negative_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()):
        raise ConfigurationError(name, f"expected a whole number of at least 0; got {raw!r}")
    return int(raw)


def _metrics_token(env: Mapping[str, str]) -> str | None:
    """PYMETRICS_METRICS_TOKEN: at least 32 characters of a header-safe token."""
    token = env.get("PYMETRICS_METRICS_TOKEN", "").strip()
    if not token:
        return None
    if len(token) < 32 or not re.fullmatch(r"[A-Za-z0-9._~+/=-]+", token):
        raise ConfigurationError(
            "PYMETRICS_METRICS_TOKEN",
            "expected at least 32 letters, digits or -._~+/= "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')",
        )
    return token


def _proxy_ssl_header(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """``X-Forwarded-Proto`` (meaning ``=https``) or ``Header-Name=value`` -> Django's pair."""
    raw = environ.get("DJANGO_SECURE_PROXY_SSL_HEADER", "").strip()
    if not raw:
        return None
    header, _, value = (piece.strip() for piece in raw.partition("="))
    if not re.fullmatch(r"[A-Za-z0-9-]+", header) or not (value or "https").isprintable():
        raise ConfigurationError(
            "DJANGO_SECURE_PROXY_SSL_HEADER",
            f"expected a header name such as X-Forwarded-Proto (optionally =https); got {raw!r}",
        )
    return "HTTP_" + header.upper().replace("-", "_"), value or "https"


def parse_database_url(url: str, *, base_dir: Path) -> dict[str, object]:
    """Django DATABASES entry for ``postgres://...`` or ``sqlite:///path`` URLs."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("postgres", "postgresql", "pgsql"):
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ConfigurationError("DATABASE_URL", "a PostgreSQL URL needs a database name")
        options: dict[str, object] = {
            "pool": {"min_size": 2, "max_size": 20, "timeout": 10},
            # Only cursors that bind on the server prepare statements (the audit
            # insert's, pymetrics.accounts.services); Django's own bind in Python.
            "prepare_threshold": 2,
        }
        for key, values in parse_qs(parts.query).items():
            if key == "sslmode":
                options["sslmode"] = values[-1]
        try:
            port = parts.port
        except ValueError:
            raise ConfigurationError("DATABASE_URL", "the port is not a number") from None
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port or ""),
            "OPTIONS": options,
            "CONN_MAX_AGE": 0,
        }
    if scheme == "sqlite":
        # sqlite:///relative/path or sqlite:////absolute/path, as in dj-database-url.
        raw_path = unquote(parts.path)
        if raw_path in ("", "/"):
            raise ConfigurationError("DATABASE_URL", "a SQLite URL needs a file path")
        path = Path(raw_path[1:])
        if raw_path == "/:memory:":
            return _sqlite(":memory:")
        return _sqlite(path if path.is_absolute() else base_dir / path)
    raise ConfigurationError(
        "DATABASE_URL", f"unsupported scheme {parts.scheme!r}; use postgres://... or sqlite:///path"
    )


def _sqlite(name: object) -> dict[str, object]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
        # WAL lets the server read while a worker thread writes; a generous timeout
        # turns short write contention into waiting instead of "database is locked".
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


def _redis_url(environ: Mapping[str, str], name: str) -> str | None:
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    scheme = urlsplit(raw).scheme
    if scheme not in ("redis", "rediss", "unix"):
        raise ConfigurationError(
            name, f"expected a redis://, rediss:// or unix:// URL, got {raw!r}"
        )
    return raw


def _broker_url(environ: Mapping[str, str]) -> str | None:
    raw = environ.get("CELERY_BROKER_URL", "").strip()
    if not raw:
        return None
    scheme = urlsplit(raw).scheme
    if scheme not in ("redis", "rediss", "amqp", "amqps", "pyamqp", "memory"):
        raise ConfigurationError(
            "CELERY_BROKER_URL", f"expected a redis:// or amqp:// URL, got {raw!r}"
        )
    return raw


def _log_format(environ: Mapping[str, str], debug: bool) -> str:
    """``json`` or ``console``; by default console for a developer (DEBUG on), else JSON."""
    raw = environ.get("PYMETRICS_LOG_FORMAT", "").strip().lower()
    if not raw:
        return "console" if debug else "json"
    if raw not in ("json", "console"):
        raise ConfigurationError("PYMETRICS_LOG_FORMAT", f"expected json or console; got {raw!r}")
    return raw


def _encryption_keys(environ: Mapping[str, str], debug: bool) -> tuple[tuple[bytes, ...], bool]:
    raw = environ.get("PYMETRICS_ENCRYPTION_KEYS", "").strip()
    if not raw:
        if not debug:
            raise ConfigurationError(
                "PYMETRICS_ENCRYPTION_KEYS",
                "is required when DJANGO_DEBUG is off (comma-separated Fernet keys, newest "
                "first; make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')",
            )
        return (_DEVELOPMENT_ENCRYPTION_KEY,), True
    keys = []
    for position, item in enumerate(raw.split(","), start=1):
        key = item.strip().encode()
        try:
            decoded = base64.urlsafe_b64decode(key)
        except ValueError:
            decoded = b""
        if len(decoded) != 32:
            raise ConfigurationError(
                "PYMETRICS_ENCRYPTION_KEYS",
                f"key {position} is not a url-safe base64 encoded 32-byte Fernet key",
            )
        keys.append(key)
    return tuple(keys), False


def load(environ: Mapping[str, str] | None = None, *, base_dir: Path) -> Environment:
    """Validate the whole environment at once; raise ConfigurationError on the first problem."""
    env = os.environ if environ is None else environ
    database_url = env.get("DATABASE_URL", "").strip() or None
    redis_url = _redis_url(env, "REDIS_URL")
    broker_url = _broker_url(env)
    embedded = database_url is None and redis_url is None
    debug = _bool(env, "DJANGO_DEBUG", default=embedded)

    secret_key = env.get("DJANGO_SECRET_KEY", "").strip()
    secret_is_default = not secret_key
    if secret_is_default:
        if not debug:
            raise ConfigurationError(
                "DJANGO_SECRET_KEY", "is required when DJANGO_DEBUG is off (at least 50 characters)"
            )
        secret_key = _DEVELOPMENT_SECRET_KEY
    elif len(secret_key) < 50:
        raise ConfigurationError("DJANGO_SECRET_KEY", "must be at least 50 characters long")

    hosts_raw = env.get("DJANGO_ALLOWED_HOSTS")
    if hosts_raw is None:
        allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]") if debug else ()
        if not debug:
            raise ConfigurationError(
                "DJANGO_ALLOWED_HOSTS", "is required when DJANGO_DEBUG is off (comma-separated)"
            )
    else:
        allowed_hosts = tuple(h.strip() for h in hosts_raw.split(",") if h.strip())
        if not allowed_hosts:
            raise ConfigurationError("DJANGO_ALLOWED_HOSTS", "lists no host")

    if database_url is None:
        database = _sqlite(base_dir / "var" / "pymetrics.sqlite3")
    else:
        database = parse_database_url(database_url, base_dir=base_dir)

    keys, keys_default = _encryption_keys(env, debug)

    otel = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip() or None
    if otel is not None and urlsplit(otel).scheme not in ("http", "https"):
        raise ConfigurationError(
            "OTEL_EXPORTER_OTLP_ENDPOINT", f"expected an http(s) URL, got {otel!r}"
        )
    sentry = env.get("SENTRY_DSN", "").strip() or None
    if sentry is not None and urlsplit(sentry).scheme not in ("http", "https"):
        raise ConfigurationError("SENTRY_DSN", f"expected an http(s) DSN, got {sentry!r}")

    return Environment(
        secret_key=secret_key,
        secret_key_is_default=secret_is_default,
        debug=debug,
        allowed_hosts=allowed_hosts,
        database=database,
        database_url=database_url,
        redis_url=redis_url,
        celery_broker_url=broker_url,
        encryption_keys=keys,
        encryption_keys_are_default=keys_default,
        sentry_dsn=sentry,
        otel_endpoint=otel,
        reaudit_interval_days=_positive_int(env, "PYMETRICS_REAUDIT_INTERVAL_DAYS", 7),
        retention_interval_s=_positive_int(env, "PYMETRICS_RETENTION_INTERVAL_S", 3600),
        exports_dir=env.get("PYMETRICS_EXPORTS_DIR", "").strip() or None,
        export_link_max_age_s=_positive_int(env, "PYMETRICS_EXPORT_LINK_MAX_AGE_S", 3600),
        export_keep_days=_positive_int(env, "PYMETRICS_EXPORT_KEEP_DAYS", 7),
        invite_ttl_days=_positive_int(env, "PYMETRICS_INVITE_TTL_DAYS", 30),
        rate_limits=_rate_limits(env),
        rate_limits_enabled=_bool(env, "PYMETRICS_RATE_LIMITS_ENABLED", default=True),
        sockets_per_session=_positive_int(env, "PYMETRICS_SOCKETS_PER_SESSION", 4),
        sockets_per_ip=_positive_int(env, "PYMETRICS_SOCKETS_PER_IP", 1000),
        hsts_seconds=_non_negative_int(env, "DJANGO_SECURE_HSTS_SECONDS", 0),
        hsts_include_subdomains=_bool(env, "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True),
        hsts_preload=_bool(env, "DJANGO_SECURE_HSTS_PRELOAD", default=False),
        ssl_redirect=_bool(env, "DJANGO_SECURE_SSL_REDIRECT", default=False),
        proxy_ssl_header=_proxy_ssl_header(env),
        trusted_proxy_count=_non_negative_int(env, "PYMETRICS_TRUSTED_PROXY_COUNT", 0),
        metrics_token=_metrics_token(env),
        audit_seal_interval_s=_positive_int(env, "PYMETRICS_AUDIT_SEAL_INTERVAL_S", 10),
        login_failure_limit=_positive_int(env, "PYMETRICS_LOGIN_FAILURE_LIMIT", 5),
        login_cooloff_minutes=_positive_int(env, "PYMETRICS_LOGIN_COOLOFF_MIN", 15),
        session_max_age_s=_positive_int(env, "PYMETRICS_SESSION_MAX_AGE_S", 12 * 3600),
        session_idle_s=_positive_int(env, "PYMETRICS_SESSION_IDLE_S", 1800),
        log_format=_log_format(env, debug),
    )
