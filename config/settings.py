"""Django settings, all derived from the validated environment (config.env)."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

from config.env import DEFAULT_RATE_LIMITS, ConfigurationError, load
from pymetrics.common import logs

BASE_DIR = Path(__file__).resolve().parent.parent

try:
    ENV = load(base_dir=BASE_DIR)
except ConfigurationError as error:  # fail loudly, naming the variable
    sys.stderr.write(f"Configuration error: {error}\n")
    raise SystemExit(2) from None

SECRET_KEY = ENV.secret_key
DEBUG = ENV.debug
ALLOWED_HOSTS = list(ENV.allowed_hosts)
EMBEDDED = ENV.embedded

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    # staff two-factor authentication (TOTP) and log-in lockout
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    # Prometheus: request, response and database metrics (pymetrics.common.telemetry)
    "django_prometheus",
    "pymetrics.common",
    "pymetrics.accounts",
    "pymetrics.assessments",
    "pymetrics.events",
    "pymetrics.scoring",
    "pymetrics.fitmodels",
    "pymetrics.reports",
    "pymetrics.privacy",
    "pymetrics.play",
    "pymetrics.analytics",
    "pymetrics.staff",
    "pymetrics.ops",
]

MIDDLEWARE = [
    # first, so it counts every response (the system status page's error rate)
    "pymetrics.common.middleware.OpsCountersMiddleware",
    # X-Request-ID: bound to every log line of the request, echoed in the response
    "pymetrics.common.requestid.RequestIdMiddleware",
    # Prometheus: every request counted and timed through all the middlewares below
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # /healthz, /readyz, /metrics for any Host: probes and scrapers reach a pod by
    # its address (pymetrics.ops.middleware)
    "pymetrics.ops.middleware.ProbeEndpointsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy, Permissions-Policy (pymetrics.common.security)
    "pymetrics.common.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # the candidate's language: the switch's cookie, else the browser's Accept-Language
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): the session passed the two-factor step
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # staff sessions end after an idle period and at an absolute lifetime
    "pymetrics.accounts.middleware.StaffSessionLifetimeMiddleware",
    # owners and admins reach nothing before their two-factor step
    "pymetrics.accounts.middleware.TwoFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Prometheus, by view, method and status: outside axes, so a lockout counts as
    # the lockout response it becomes
    "pymetrics.common.httpmetrics.BoundedPrometheusAfterMiddleware",
    # last: turns a locked-out log-in into the lockout page
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": ENV.database}
# --- Prometheus (pymetrics.common.telemetry; docs/operations.md, "Metrics and alerts") ---
# django-prometheus's database backends: Django's own, every query counted and timed
_PROMETHEUS_ENGINES = {
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
}
DATABASES["default"]["ENGINE"] = _PROMETHEUS_ENGINES.get(
    str(DATABASES["default"]["ENGINE"]), DATABASES["default"]["ENGINE"]
)
# request latencies in the buckets the alerts judge (seconds)
PROMETHEUS_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# axes first: it refuses a locked-out e-mail and IP address before any password check
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "staff:login"
LOGIN_REDIRECT_URL = "staff:assessment-list"
LOGOUT_REDIRECT_URL = "staff:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# Languages the candidate pages offer (a switch appears when there is more than one);
# the catalogues live in locale/ (`make messages` collects the strings).
LANGUAGES = [("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
_NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    ("vendor/jspsych", _NODE_MODULES / "jspsych" / "dist"),
    ("vendor/jspsych-css", _NODE_MODULES / "jspsych" / "css"),
    (
        "vendor/jspsych-plugin-instructions",
        _NODE_MODULES / "@jspsych" / "plugin-instructions" / "dist",
    ),
    (
        "vendor/jspsych-plugin-html-button-response",
        _NODE_MODULES / "@jspsych" / "plugin-html-button-response" / "dist",
    ),
    ("vendor/chartjs", _NODE_MODULES / "chart.js" / "dist"),
    ("vendor/chartjs-plugin-zoom", _NODE_MODULES / "chartjs-plugin-zoom" / "dist"),
    ("vendor/chartjs-chart-matrix", _NODE_MODULES / "chartjs-chart-matrix" / "dist"),
    ("vendor/hammerjs", _NODE_MODULES / "hammerjs"),
    *(
        (f"games/{folder.name}", folder / "static")
        for folder in sorted((BASE_DIR / "pymetrics" / "games").iterdir())
        if (folder / "static").is_dir()
    ),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # finished exports and candidates' data archives, downloaded through signed links
    # only (never served as static files); any Django storage backend will do
    "exports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": ENV.exports_dir or BASE_DIR / "var" / "exports",
            # the files hold personal data: readable by the service's user and group only
            "file_permissions_mode": 0o640,
            "directory_permissions_mode": 0o750,
        },
    },
}
# Serve straight from the finders so `make run` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Cache, live notices, Celery: in-process by default, Redis when configured ---
if ENV.redis_url:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": ENV.redis_url,
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
            "KEY_PREFIX": "pymetrics",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Live notices to staff sockets (pymetrics.common.live, ADR 0014): Redis pub/sub
# between processes when configured, in-process otherwise. No consumer uses a
# Channels layer, so none is configured.
PYMETRICS_LIVE_REDIS_URL = ENV.redis_url

#: Celery tasks run (with a list of attempt ids) after attempts get new trait scores.
PYMETRICS_AFTER_TRAITS = ("pymetrics.fitmodels.tasks.score_attempts_fit",)

CELERY_BROKER_URL = ENV.celery_broker_url or ENV.redis_url or "memory://localhost/"
# With no broker configured, tasks run in the calling process (the embedded default).
CELERY_TASK_ALWAYS_EAGER = ENV.celery_broker_url is None and ENV.redis_url is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Redis redelivers a task whose worker died mid-run (never acknowledged) only after
# this many seconds; a task running longer is handed out twice (docs/operations.md).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 3600}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "expire-stale-invitations": {
        "task": "assessments.expire_stale_invitations",
        "schedule": 3600.0,
    },
    # candidates past their organisation's retention period are erased
    "enforce-retention": {
        "task": "privacy.enforce_retention",
        "schedule": float(ENV.retention_interval_s),
    },
    # export files past their download window are deleted
    "purge-expired-exports": {
        "task": "reports.purge_expired_exports",
        "schedule": 3600.0,
    },
    # audit log entries join the hash chain (pymetrics.accounts.audit_chain)
    "seal-audit-log": {
        "task": "accounts.seal_audit_log",
        "schedule": float(ENV.audit_seal_interval_s),
    },
    # the daily look for active job-fit models due for their bias audit
    "reaudit-active-fit-models": {
        "task": "fitmodels.reaudit_active_models",
        "schedule": 24 * 3600.0,
    },
}
#: Days after which an active job-fit model's bias audit is run again on the
#: candidates who have reported groups since (the applicant population moves).
PYMETRICS_REAUDIT_INTERVAL_DAYS = ENV.reaudit_interval_days
#: Seconds a signed export download link works after it is made, and days a finished
#: export's file is kept (docs/exports.md).
PYMETRICS_EXPORT_LINK_MAX_AGE_S = ENV.export_link_max_age_s
PYMETRICS_EXPORT_KEEP_DAYS = ENV.export_keep_days

# --- Security ---
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
PYMETRICS_ENCRYPTION_KEYS = ENV.encryption_keys
# Invites expire: a link forwarded months later should not open an assessment.
PYMETRICS_INVITE_TTL_DAYS = ENV.invite_ttl_days
PYMETRICS_PLAY_SESSION_MAX_AGE_S = 7 * 24 * 3600
# Largest event batch accepted in one HTTP request or socket message.
PYMETRICS_MAX_EVENTS_PER_BATCH = 1000
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # 1 MiB per request body, as on sockets

# --- Staff authentication ---
# Two-factor (TOTP, django-otp): mandatory for owners and admins, optional for
# analysts and recruiters (pymetrics.accounts.twofactor). API keys are scoped
# credentials and are not asked for a code.
OTP_TOTP_ISSUER = "Django Pymetrics"
# a wrong code doubles the wait before the next try (1 s, 2 s, 4 s, ...)
OTP_TOTP_THROTTLE_FACTOR = 1
# Log-in lockout (django-axes): N failures per (e-mail, IP address) lock that pair
# out for the cool-off period; failures land in axes' own tables (AccessAttempt,
# AccessFailureLog), lockouts in the audit log too (action "auth.lockout").
AXES_FAILURE_LIMIT = ENV.login_failure_limit
AXES_COOLOFF_TIME = timedelta(minutes=ENV.login_cooloff_minutes)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_CLIENT_IP_CALLABLE = "pymetrics.accounts.permissions.client_ip"
AXES_LOCKOUT_CALLABLE = "pymetrics.staff.pages.security.lockout"
# Sessions live in the database: server-side, so logging out, a password change or a
# two-factor reset ends them for good (signed-cookie sessions could not be revoked).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
#: the absolute lifetime of a staff session (the cookie's and the server's)
SESSION_COOKIE_AGE = ENV.session_max_age_s
#: a staff session unused for this many seconds ends (pymetrics.accounts.middleware)
PYMETRICS_SESSION_IDLE_S = ENV.session_idle_s

# --- HTTP hardening and rate limits ---
# HTTPS behind a TLS-terminating proxy, from the environment and only with DEBUG off:
# the embedded `make run` serves plain HTTP on localhost (docs/security.md lists
# the production values; `manage.py check --deploy` names any that are missing).
if not DEBUG:
    SECURE_HSTS_SECONDS = ENV.hsts_seconds
    SECURE_HSTS_INCLUDE_SUBDOMAINS = ENV.hsts_include_subdomains
    SECURE_HSTS_PRELOAD = ENV.hsts_preload
    SECURE_SSL_REDIRECT = ENV.ssl_redirect
    SECURE_PROXY_SSL_HEADER = ENV.proxy_ssl_header
# the load balancer's probes may ask over plain HTTP inside the private network
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
#: How many reverse proxies in front of the web servers append the address they saw
#: to X-Forwarded-For: the client's address is the one the outermost of them saw
#: (pymetrics.accounts.permissions.client_ip). Rate limits and the login lockout
#: count by it; with 0 behind a proxy every client would share the proxy's.
PYMETRICS_TRUSTED_PROXY_COUNT = ENV.trusted_proxy_count
# a scraper of /metrics sends "Authorization: Bearer <token>" (None: none asked)
PYMETRICS_METRICS_TOKEN = ENV.metrics_token
#: Browser features no page of the platform uses (Permissions-Policy header).
PYMETRICS_PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
#: Rate limits by name (pymetrics.common.ratelimit, config.env.DEFAULT_RATE_LIMITS).
PYMETRICS_RATE_LIMITS = dict(ENV.rate_limits or DEFAULT_RATE_LIMITS)
PYMETRICS_RATE_LIMITS_ENABLED = ENV.rate_limits_enabled
#: Candidate sockets open at once per game session and per client address, counted
#: in each socket server process (pymetrics.realtime.limits.SocketCounter).
PYMETRICS_SOCKETS_PER_SESSION = ENV.sockets_per_session
PYMETRICS_SOCKETS_PER_IP = ENV.sockets_per_ip

# --- API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "pymetrics.accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "pymetrics.accounts.permissions.IsOrganizationMember",
        # an API key may only do what its scopes allow (read, write, export)
        "pymetrics.accounts.permissions.HasApiKeyScope",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["pymetrics.common.jsonio.StrictJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "pymetrics.common.api.JsonContentNegotiation",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "pymetrics.common.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Django Pymetrics API",
    "DESCRIPTION": "Game-based behavioural assessment: assessments, candidates, play sessions, "
    "metrics and traits.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI is served from the sidecar package: no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # the A/B test arms, used by fit scores and by a test's winner
    "ENUM_NAME_OVERRIDES": {"AbTestArmEnum": ["A", "B"]},
}

# --- Logs (pymetrics.common.logs; docs/operations.md, "Logs and traces") ---
# One root handler renders every record, the standard library's too, as a JSON
# object per line (PYMETRICS_LOG_FORMAT=json) or as readable text (console).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"structured": logs.formatter(ENV.log_format)},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        # through the root handler only (Django's default adds its own in DEBUG)
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "propagate": True},
        # the servers' own loggers, in the same format. Their levels stay the ones
        # --log-level gave them: each is named here, since dictConfig resets the
        # level of an unnamed child of a logger it configures (uvicorn.error would
        # log every socket's opening at INFO)
        "gunicorn.error": {"handlers": ["console"], "propagate": False},
        "uvicorn": {"handlers": ["console"], "propagate": False},
        "uvicorn.error": {"handlers": ["console"], "propagate": False},
        "uvicorn.access": {"handlers": ["console"], "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},
        # axes logs every start-up and every successful login at INFO
        "axes": {"level": "WARNING"},
    },
}
logs.configure_structlog()
