# syntax=docker/dockerfile:1
# One image for every process of Django Pymetrics; the command picks the role
# (compose.yaml and deploy/k8s/ spell each one out, with the arguments of
# pymetrics/ops/serving.py):
#   web      gunicorn config.wsgi:application ...   (the default command below)
#   sockets  uvicorn config.asgi:application ...    (WebSockets under /ws/)
#   worker   celery -A config worker ...
#   beat     celery -A config beat ...               (exactly one at a time)
#   migrate  python manage.py migrate --no-input     (once per release)
# Configuration comes from the environment only (docs/configuration.md).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

# --- front-end packages, served as Django static files (no bundler, no CDN) ---
FROM ${NODE_IMAGE} AS node
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

# --- Python dependencies in a virtual environment, then the collected static files ---
FROM ${PYTHON_IMAGE} AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/venv
# The settings find locale/, node_modules/ and var/ beside the source tree (BASE_DIR),
# so the application runs from /app and only its dependencies, read from
# pyproject.toml, go into the venv. Copying pyproject.toml alone first keeps this
# slow layer cached until the dependencies change.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
      > /tmp/requirements.txt \
    && /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt
COPY --from=node /src/node_modules ./node_modules
COPY . .
# Static files are collected into var/static at build time (WhiteNoise serves them).
# Debug is on for this one command only: it lets the settings load without the
# production secrets, which collectstatic never uses.
RUN DJANGO_DEBUG=1 /opt/venv/bin/python manage.py collectstatic --no-input -v0 \
    && /opt/venv/bin/python -m compileall -q --invalidation-mode unchecked-hash config pymetrics \
    && mkdir -p var/exports

# --- runtime: the venv, the source, the static files and the OS libraries only ---
FROM ${PYTHON_IMAGE} AS runtime
# Pango (and HarfBuzz's subsetter) for WeasyPrint's PDF reports, and the fonts
# they are set in; psycopg[binary] brings its own libpq.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
      fonts-liberation \
      libharfbuzz-subset0 \
      libpango-1.0-0 \
      libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 pymetrics \
    && useradd --system --uid 10001 --gid pymetrics --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin pymetrics
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    XDG_CACHE_HOME=/tmp/.cache \
    WEB_CONCURRENCY=2 \
    PYMETRICS_EXPORTS_DIR=/app/var/exports
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /src /app
# Only the exports folder is written by the application (a volume in deployments);
# everything else stays read-only to the service user.
RUN chown pymetrics:pymetrics /app/var/exports && chmod 0750 /app/var/exports
USER 10001:10001
EXPOSE 8000
# /healthz answers without touching any dependency. The Host header is one that
# DJANGO_ALLOWED_HOSTS must list (docs/operations.md); worker and beat containers
# replace this check with their own (compose.yaml, deploy/k8s/).
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
  CMD ["python", "-c", "import urllib.request as r; r.urlopen(r.Request('http://127.0.0.1:8000/healthz', headers={'Host': 'localhost'}), timeout=4)"]
# gunicorn reads its worker count from WEB_CONCURRENCY.
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", \
     "--worker-class", "gthread", "--threads", "4", "--graceful-timeout", "20", \
     "--worker-tmp-dir", "/dev/shm", "--log-level", "warning"]
