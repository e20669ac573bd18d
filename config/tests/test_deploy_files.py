"""The deployment files, checked without a cluster or a Docker daemon.

Both Kubernetes overlays are rendered with ``kubectl kustomize`` and every object is
validated against the API schemas of one pinned Kubernetes version (strict: an
unknown field fails); the Dockerfile goes through hadolint and the YAML through
yamllint (.yamllint.yaml); then the properties a deployment depends on are
asserted: probes, resources, non-root pods, one beat, the /ws/ route, image tags,
the migration Job, Compose's services and the CI workflow.

A missing tool skips these tests on a developer's machine (with the reason) and
fails them in CI (``CI=true`` or ``PYMETRICS_REQUIRE_INTEGRATION=1``).
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from pymetrics.ops import serving

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
#: the Kubernetes API version the rendered objects must be valid for
KUBERNETES_VERSION = "1.30.0"
IMAGE = "registry.example.org/pymetrics/django-pymetrics"
IMAGE_TAGS = {"dev": "main", "prod": "0.1.0"}
NAMESPACES = {"dev": "pymetrics-dev", "prod": "pymetrics"}
HOSTS = {"dev": "pymetrics-dev.example.org", "prod": "pymetrics.example.org"}
#: the Dockerfile's USER
APP_UID = 10001
#: Host header of every probe and health check (the pod address is no site name)
PROBE_HOST = "localhost"
SECRET_KEYS = {
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "DJANGO_SECRET_KEY",
    "PYMETRICS_ENCRYPTION_KEYS",
    "PYMETRICS_METRICS_TOKEN",
}
#: read by gunicorn and uvicorn themselves, not by config/env.py
SERVER_VARIABLES = {"WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS"}
#: what kubectl 1.20's kustomize (v2) reads: newer keys would render here and fail there
KUSTOMIZE_V2_KEYS = {
    "bases",
    "resources",
    "namespace",
    "namePrefix",
    "nameSuffix",
    "commonLabels",
    "commonAnnotations",
    "images",
    "patchesStrategicMerge",
    "patchesJson6902",
    "configMapGenerator",
    "secretGenerator",
    "generatorOptions",
    "vars",
}

IN_CI = os.environ.get("CI") == "true" or os.environ.get("PYMETRICS_REQUIRE_INTEGRATION") == "1"


def _missing(what: str) -> None:
    message = f"{what} is not installed (pyproject.toml's dev extras; kubectl: .ci/run)"
    if IN_CI:
        pytest.fail(f"{message}: CI must run the deployment checks")
    pytest.skip(message)


def _tool(name: str) -> str:
    """A command from the project's venv (pip-installed tools) or the PATH."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        _missing(name)
    assert found is not None
    return found


def _module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError:
        _missing(f"the Python package {name}")
        raise


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --- Kubernetes -------------------------------------------------------------------------


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """(name, rendered objects) of an overlay, with secrets.env made from the example."""
    kubectl = _tool("kubectl")
    name = request.param
    tree = tmp_path_factory.mktemp(f"k8s-{name}") / "k8s"
    shutil.copytree(K8S, tree)
    shutil.copy(tree / "secrets.env.example", tree / "overlays" / name / "secrets.env")
    rendered = subprocess.run(
        [kubectl, "kustomize", str(tree / "overlays" / name)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr
    objects = [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]
    return name, objects


def _one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} objects"
    return found[0]


def _by_prefix(objects: list[dict[str, Any]], kind: str, prefix: str) -> dict[str, Any]:
    """A generated ConfigMap or Secret (its name carries a content hash)."""
    found = [
        o for o in objects if o["kind"] == kind and o["metadata"]["name"].startswith(prefix + "-")
    ]
    assert len(found) == 1, f"{kind}/{prefix}-<hash>: {len(found)} objects"
    return found[0]


def _pod_specs(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        f"{o['kind']}/{o['metadata']['name']}": o["spec"]["template"]["spec"]
        for o in objects
        if o["kind"] in ("Deployment", "Job")
    }


def _config(objects: list[dict[str, Any]]) -> dict[str, str]:
    return dict(_by_prefix(objects, "ConfigMap", "pymetrics-config")["data"])


def _allowed_hosts(objects: list[dict[str, Any]]) -> list[str]:
    return _config(objects)["DJANGO_ALLOWED_HOSTS"].split(",")


def test_every_rendered_object_is_valid_for_the_pinned_kubernetes_version(overlay: Any) -> None:
    kubernetes_validate = _module("kubernetes_validate")
    name, objects = overlay
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    assert Counter(o["kind"] for o in objects) == {
        "Deployment": 4,
        "Service": 2,
        "Ingress": 2,
        "HorizontalPodAutoscaler": 3,
        "PodDisruptionBudget": 3,
        "Job": 1,
        "ConfigMap": 1,
        "Secret": 1,
        "PersistentVolumeClaim": 1,
        "NetworkPolicy": 3,
    }
    assert {o["metadata"]["namespace"] for o in objects} == {NAMESPACES[name]}


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A label selector's meaning (matchLabels, and matchExpressions with In)."""
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In", expression
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def test_network_policies_let_in_only_the_ingress_controller_and_prometheus(
    overlay: Any,
) -> None:
    """Evaluated as a cluster would: each pod's allowed (namespace, port) pairs."""
    _, objects = overlay
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    allowed: dict[str, set[tuple[str, int]]] = {}
    for obj in objects:
        if obj["kind"] not in ("Deployment", "Job"):
            continue
        template = obj["spec"]["template"]
        labels = template["metadata"]["labels"]
        ports = {
            port["name"]: port["containerPort"]
            for container in template["spec"]["containers"]
            for port in container.get("ports", [])
        }
        selected = [p for p in policies if _selects(p["spec"]["podSelector"], labels)]
        # selected by at least one policy: whatever no rule allows is refused
        assert selected, obj["metadata"]["name"]
        pairs = set()
        for policy in selected:
            assert policy["spec"]["policyTypes"] == ["Ingress"]
            for rule in policy["spec"].get("ingress", []):
                for peer in rule["from"]:
                    assert set(peer) == {"namespaceSelector"}, peer  # no pod or IP peers
                    namespace = peer["namespaceSelector"]["matchLabels"][
                        "kubernetes.io/metadata.name"
                    ]
                    for port in rule["ports"]:
                        pairs.add((namespace, ports[port["port"]]))
        allowed[obj["metadata"]["name"]] = pairs
    web = {("ingress-nginx", 8000), ("monitoring", 8000)}
    assert allowed == {
        "pymetrics-web": web,
        "pymetrics-sockets": web,
        "pymetrics-worker": {("monitoring", 9808)},
        "pymetrics-beat": set(),
        "pymetrics-migrate": set(),
    }
    # and nothing outside the platform is selected
    for policy in policies:
        assert policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "pymetrics"


def test_web_and_sockets_are_probed_on_readyz_and_healthz(overlay: Any) -> None:
    _, objects = overlay
    for deployment in ("pymetrics-web", "pymetrics-sockets"):
        (container,) = _one(objects, "Deployment", deployment)["spec"]["template"]["spec"][
            "containers"
        ]
        assert container["ports"] == [{"name": "http", "containerPort": 8000}]
        probes = {
            kind: container[kind]["httpGet"]
            for kind in ("startupProbe", "readinessProbe", "livenessProbe")
        }
        assert probes["readinessProbe"]["path"] == "/readyz", deployment
        assert probes["livenessProbe"]["path"] == "/healthz", deployment
        assert probes["startupProbe"]["path"] == "/healthz", deployment
        for probe in probes.values():
            assert probe["port"] == "http"
            # Django answers 400 to a Host it does not serve: the probes name one it does
            assert probe["httpHeaders"] == [{"name": "Host", "value": PROBE_HOST}]
        assert PROBE_HOST in _allowed_hosts(objects)


def test_every_container_has_cpu_and_memory_requests_and_limits(overlay: Any) -> None:
    _, objects = overlay
    for owner, pod in _pod_specs(objects).items():
        for container in pod.get("initContainers", []) + pod["containers"]:
            resources = container["resources"]
            for bound in ("requests", "limits"):
                assert set(resources[bound]) == {"cpu", "memory"}, (owner, container["name"])


def test_pods_run_as_the_image_user_with_a_read_only_root_filesystem(overlay: Any) -> None:
    _, objects = overlay
    for owner, pod in _pod_specs(objects).items():
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True, owner
        assert context["runAsUser"] == APP_UID, owner
        assert context["fsGroup"] == APP_UID, owner
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, owner
        assert pod["automountServiceAccountToken"] is False, owner
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert "emptyDir" in volumes["tmp"], owner
        for container in pod.get("initContainers", []) + pod["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, (owner, container["name"])
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"] == {"drop": ["ALL"]}
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert mounts["/tmp"] == "tmp", (owner, container["name"])


def test_exports_are_shared_by_web_and_worker_only(overlay: Any) -> None:
    _, objects = overlay
    claim = _one(objects, "PersistentVolumeClaim", "pymetrics-exports")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    exports_dir = _config(objects)["PYMETRICS_EXPORTS_DIR"]
    mounting = set()
    for owner, pod in _pod_specs(objects).items():
        claims = {
            v["name"]: v["persistentVolumeClaim"]["claimName"]
            for v in pod["volumes"]
            if "persistentVolumeClaim" in v
        }
        for container in pod["containers"]:
            for mount in container["volumeMounts"]:
                if claims.get(mount["name"]) == "pymetrics-exports":
                    assert mount["mountPath"] == exports_dir
                    mounting.add(owner)
    assert mounting == {"Deployment/pymetrics-web", "Deployment/pymetrics-worker"}


def test_beat_runs_exactly_once(overlay: Any) -> None:
    _, objects = overlay
    beat = _one(objects, "Deployment", "pymetrics-beat")
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    assert not [
        o
        for o in objects
        if o["kind"] == "HorizontalPodAutoscaler"
        and o["spec"]["scaleTargetRef"]["name"] == "pymetrics-beat"
    ]
    (container,) = beat["spec"]["template"]["spec"]["containers"]
    assert container["command"][:4] == ["celery", "-A", "config", "beat"]
    # the schedule file lives on the writable scratch volume
    assert "--schedule=/tmp/celerybeat-schedule" in container["command"]


def test_the_ingress_sends_ws_to_the_sockets_service_and_the_rest_to_web(overlay: Any) -> None:
    name, objects = overlay
    routes: dict[str, tuple[str, dict[str, str]]] = {}
    for ingress in (o for o in objects if o["kind"] == "Ingress"):
        assert ingress["spec"]["ingressClassName"] == "nginx"
        (rule,) = ingress["spec"]["rules"]
        assert rule["host"] == HOSTS[name]
        assert ingress["spec"]["tls"] == [{"hosts": [HOSTS[name]], "secretName": "pymetrics-tls"}]
        for path in rule["http"]["paths"]:
            assert path["pathType"] == "Prefix"
            service = path["backend"]["service"]
            routes[path["path"]] = (service["name"], ingress["metadata"]["annotations"])
    assert set(routes) == {"/", "/ws/"}
    assert routes["/ws/"][0] == "pymetrics-sockets"
    assert routes["/"][0] == "pymetrics-web"
    # idle sockets outlive ingress-nginx's 60 s default; HTTP keeps it
    ws_annotations = routes["/ws/"][1]
    assert int(ws_annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert int(ws_annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600
    assert int(routes["/"][1]["nginx.ingress.kubernetes.io/proxy-read-timeout"]) <= 120
    assert HOSTS[name] in _allowed_hosts(objects)
    # each Service selects the pods of its own Deployment, on the named port
    for service_name, component in (("pymetrics-sockets", "sockets"), ("pymetrics-web", "web")):
        service = _one(objects, "Service", service_name)
        pod_labels = _one(objects, "Deployment", service_name)["spec"]["template"]["metadata"][
            "labels"
        ]
        assert service["spec"]["selector"]["app.kubernetes.io/component"] == component
        assert service["spec"]["selector"].items() <= pod_labels.items()
        assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http"}]


def test_the_overlay_sets_every_image_tag(overlay: Any) -> None:
    name, objects = overlay
    images = {
        container["image"]
        for pod in _pod_specs(objects).values()
        for container in pod.get("initContainers", []) + pod["containers"]
    }
    assert images == {f"{IMAGE}:{IMAGE_TAGS[name]}"}


def test_the_migration_job_migrates_and_the_servers_wait_for_it(overlay: Any) -> None:
    _, objects = overlay
    job = _one(objects, "Job", "pymetrics-migrate")
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    assert container["command"] == ["python", "manage.py", "migrate", "--no-input"]
    for deployment in ("pymetrics-web", "pymetrics-sockets", "pymetrics-worker"):
        (wait,) = _one(objects, "Deployment", deployment)["spec"]["template"]["spec"][
            "initContainers"
        ]
        assert "manage.py migrate --check" in wait["command"][-1], deployment


def test_autoscalers_and_disruption_budgets_cover_the_scaled_processes(overlay: Any) -> None:
    name, objects = overlay
    scaled = {"pymetrics-web", "pymetrics-sockets", "pymetrics-worker"}
    autoscalers = {
        o["metadata"]["name"]: o for o in objects if o["kind"] == "HorizontalPodAutoscaler"
    }
    assert set(autoscalers) == scaled
    for target, hpa in autoscalers.items():
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": target,
        }
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        if name == "prod":
            assert hpa["spec"]["minReplicas"] >= 3, target
        # the autoscaler owns the count: a `replicas` in the manifest would reset it
        assert "replicas" not in _one(objects, "Deployment", target)["spec"]
    budgets = {o["metadata"]["name"]: o for o in objects if o["kind"] == "PodDisruptionBudget"}
    assert set(budgets) == scaled
    for target, budget in budgets.items():
        labels = _one(objects, "Deployment", target)["spec"]["template"]["metadata"]["labels"]
        assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert budget["spec"]["maxUnavailable"] == 1


def test_settings_and_secrets_are_documented_and_kept_apart(overlay: Any) -> None:
    name, objects = overlay
    config = _config(objects)
    secret = _by_prefix(objects, "Secret", "pymetrics-secrets")
    assert set(secret["data"]) == SECRET_KEYS
    assert not SECRET_KEYS & set(config)
    assert config["DJANGO_DEBUG"] == "0"
    assert config["PYMETRICS_TRUSTED_PROXY_COUNT"] == "1"
    assert config["DJANGO_SECURE_HSTS_SECONDS"] == ("31536000" if name == "prod" else "0")
    documented = _documented_variables()
    assert set(config) - SERVER_VARIABLES <= documented
    assert documented >= SECRET_KEYS
    # every pod gets both, under their generated (hashed) names
    for owner, pod in _pod_specs(objects).items():
        for container in pod.get("initContainers", []) + pod["containers"]:
            assert container["envFrom"] == [
                {
                    "configMapRef": {
                        "name": _by_prefix(objects, "ConfigMap", "pymetrics-config")["metadata"][
                            "name"
                        ]
                    }
                },
                {"secretRef": {"name": secret["metadata"]["name"]}},
            ], owner


def test_the_secret_example_holds_placeholders_only() -> None:
    values = _env_file(K8S / "secrets.env.example")
    assert set(values) == SECRET_KEYS
    for key, value in values.items():
        assert "REPLACE" in value, key


def test_kustomizations_use_only_what_kustomize_v2_reads() -> None:
    files = sorted(K8S.rglob("kustomization.yaml"))
    assert [f.relative_to(K8S).as_posix() for f in files] == [
        "base/kustomization.yaml",
        "overlays/dev/kustomization.yaml",
        "overlays/prod/kustomization.yaml",
    ]
    for path in files:
        kustomization = _load(path)
        assert set(kustomization) <= KUSTOMIZE_V2_KEYS, path
        # v2 takes files under `resources` and folders under `bases` only
        for resource in kustomization.get("resources", []):
            assert (path.parent / resource).is_file(), resource
        for base in kustomization.get("bases", []):
            assert (path.parent / base).is_dir(), base
        for generator in kustomization.get("configMapGenerator", []) + kustomization.get(
            "secretGenerator", []
        ):
            assert "envs" not in generator, path


def test_the_server_commands_are_the_ones_the_bench_measures(overlay: Any) -> None:
    """The manifests, Compose and the Dockerfile run serving.py's options (ADR 13)."""
    _, objects = overlay
    web = _one(objects, "Deployment", "pymetrics-web")["spec"]["template"]["spec"]["containers"][0]
    sockets = _one(objects, "Deployment", "pymetrics-sockets")["spec"]["template"]["spec"][
        "containers"
    ][0]
    http = serving.http_server_command(host="0.0.0.0", port=8000, workers=2)  # noqa: S104
    ws = serving.socket_server_command(host="0.0.0.0", port=8000, workers=1)  # noqa: S104
    assert web["command"][:2] == http[2:4] == ["gunicorn", "config.wsgi:application"]
    assert sockets["command"][:2] == ws[2:4] == ["uvicorn", "config.asgi:application"]
    # the process count comes from WEB_CONCURRENCY, which both servers read
    assert _options(web["command"]) == _options(http) - {("--workers", "2")} | {
        ("--worker-tmp-dir", "/dev/shm")
    }
    assert _options(sockets["command"]) == _options(ws) - {("--workers", "1")}
    compose = _load(ROOT / "compose.yaml")["services"]
    assert compose["web"]["command"] == web["command"]
    assert compose["sockets"]["command"] == sockets["command"]
    assert _dockerfile_instruction("CMD") == web["command"]


def _options(command: list[str]) -> set[tuple[str, str]]:
    """The command's ``--option value`` pairs and bare flags."""
    pairs: set[tuple[str, str]] = set()
    args = command[command.index(next(a for a in command if a.startswith("--"))) :]
    index = 0
    while index < len(args):
        option = args[index]
        if index + 1 < len(args) and not args[index + 1].startswith("--"):
            pairs.add((option, args[index + 1]))
            index += 2
        else:
            pairs.add((option, ""))
            index += 1
    return pairs


def _documented_variables() -> set[str]:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", text, flags=re.MULTILINE))


def _env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, line
            values[key.strip()] = value.strip()
    return values


# --- Docker -----------------------------------------------------------------------------


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _dockerfile_instruction(name: str) -> Any:
    """The JSON (exec form) argument of the last ``name`` instruction."""
    joined = re.sub(r"\\\n\s*", " ", _dockerfile())
    found = re.findall(rf"^{name} (.+)$", joined, flags=re.MULTILINE)
    assert found, name
    return yaml.safe_load(found[-1].split(" CMD ", 1)[-1])


def test_hadolint_passes_on_the_dockerfile() -> None:
    hadolint = _tool("hadolint")
    result = subprocess.run(
        [hadolint, "--config", str(ROOT / ".hadolint.yaml"), str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_is_slim_non_root_health_checked_and_carries_its_static_files() -> None:
    text = _dockerfile()
    stages = re.findall(r"^FROM (\S+) AS (\w+)$", text, flags=re.MULTILINE)
    assert [stage for _, stage in stages] == ["node", "build", "runtime"]
    assert "ARG PYTHON_IMAGE=python:3.11-slim-bookworm" in text
    assert stages[-1][0] == "${PYTHON_IMAGE}"
    runtime = text.split(" AS runtime", 1)[1]
    install = re.search(r"apt-get install -y --no-install-recommends(.+?)&&", runtime, re.DOTALL)
    assert install
    packages = set(install.group(1).replace("\\", " ").split())
    # WeasyPrint's Pango and the fonts; psycopg[binary] brings its own libpq
    assert packages == {
        "fonts-liberation",
        "libharfbuzz-subset0",
        "libpango-1.0-0",
        "libpangoft2-1.0-0",
    }
    assert re.search(rf"^USER {APP_UID}:{APP_UID}$", runtime, flags=re.MULTILINE)
    assert re.search(r"^EXPOSE 8000$", runtime, flags=re.MULTILINE)
    assert "manage.py collectstatic --no-input" in text
    assert "COPY --from=node /src/node_modules ./node_modules" in text
    check = _dockerfile_instruction("HEALTHCHECK")
    assert check[:2] == ["python", "-c"]
    assert "http://127.0.0.1:8000/healthz" in check[2]
    assert f"'Host': '{PROBE_HOST}'" in check[2]


def test_the_build_context_leaves_out_local_state_and_secrets() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv/", "node_modules/", "var/", ".git/", ".env", ".env.*"} <= ignored


# --- Compose ----------------------------------------------------------------------------


def test_compose_runs_every_process_after_the_migration() -> None:
    compose = _load(ROOT / "compose.yaml")
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "sockets", "worker", "beat"}
    assert set(compose["volumes"]) == {"postgres-data", "redis-data", "exports"}
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--no-input"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    image = services["web"]["image"]
    for role in ("web", "sockets", "worker", "beat"):
        service = services[role]
        assert service["image"] == image
        assert service["env_file"] == ".env"
        assert service["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }, role
        assert service["environment"]["DATABASE_URL"].endswith("@postgres:5432/pymetrics")
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    # exports: written by the worker, downloaded through web
    for role in ("web", "worker"):
        assert services[role]["volumes"] == ["exports:/app/var/exports"]


def test_compose_publishes_the_two_servers_on_loopback_only_and_checks_health() -> None:
    services = _load(ROOT / "compose.yaml")["services"]
    published = {name: s["ports"] for name, s in services.items() if "ports" in s}
    assert published == {
        "web": ["127.0.0.1:${PYMETRICS_HTTP_PORT:-8000}:8000"],
        "sockets": ["127.0.0.1:${PYMETRICS_SOCKETS_PORT:-8001}:8000"],
    }
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "/readyz" in services["web"]["healthcheck"]["test"][-1]
    assert "/healthz" in services["sockets"]["healthcheck"]["test"][-1]
    assert "inspect ping" in services["worker"]["healthcheck"]["test"][-1]
    # beat serves no HTTP and must not answer worker pings (the status page counts them)
    assert services["beat"]["healthcheck"] == {"disable": True}
    assert services["migrate"]["healthcheck"] == {"disable": True}


def test_the_compose_environment_example_holds_no_secrets() -> None:
    values = _env_file(ROOT / ".env.example")
    secrets = (
        "POSTGRES_PASSWORD",
        "DJANGO_SECRET_KEY",
        "PYMETRICS_ENCRYPTION_KEYS",
        "PYMETRICS_METRICS_TOKEN",
    )
    for key in secrets:
        assert values[key].startswith("REPLACE"), key
    assert PROBE_HOST in values["DJANGO_ALLOWED_HOSTS"].split(",")
    compose_only = {
        key
        for key in values
        if key.startswith("PYMETRICS_")
        and key.endswith(("_PORT", "_PROCESSES", "_CONCURRENCY", "_IMAGE"))
    } | {"POSTGRES_PASSWORD"}
    assert set(values) - compose_only <= _documented_variables()
    # every ${VARIABLE} compose.yaml reads is in the example
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", (ROOT / "compose.yaml").read_text()))
    assert used <= set(values)


# --- YAML and CI ------------------------------------------------------------------------


def test_yamllint_passes_on_the_deployment_and_ci_files() -> None:
    config_module = _module("yamllint.config")
    linter = _module("yamllint.linter")
    config = config_module.YamlLintConfig(file=str(ROOT / ".yamllint.yaml"))
    files = [
        ROOT / "compose.yaml",
        ROOT / ".yamllint.yaml",
        ROOT / ".hadolint.yaml",
        *sorted((ROOT / ".github" / "workflows").glob("*.yml")),
        *sorted(K8S.rglob("*.yaml")),
    ]
    assert len(files) >= 20
    problems = [
        f"{path.relative_to(ROOT)}:{problem.line}: {problem.message}"
        for path in files
        for problem in linter.run(path.read_text(encoding="utf-8"), config, str(path))
    ]
    assert problems == []


def test_the_ci_workflow_lints_tests_with_services_audits_and_builds() -> None:
    workflow = _load(ROOT / ".github" / "workflows" / "ci.yml")
    # PyYAML reads the bare key `on` as True
    triggers = workflow.get("on", workflow.get(True))
    assert set(triggers) == {"push", "pull_request"}
    jobs = workflow["jobs"]
    assert set(jobs) == {"lint", "types", "tests", "security", "image"}
    runs = {
        name: " ".join(step.get("run", "") for step in job["steps"]) for name, job in jobs.items()
    }
    assert ".venv/bin/ruff check ." in runs["lint"]
    assert ".venv/bin/lint-imports" in runs["lint"]
    assert ".venv/bin/mypy ." in runs["types"]
    assert "bash .ci/run" in runs["tests"]
    assert "make security" in runs["security"]
    services = jobs["tests"]["services"]
    assert services["postgres"]["ports"] == ["5432:5432"]
    assert services["redis"]["ports"] == ["6379:6379"]
    build = next(
        s for s in jobs["image"]["steps"] if s.get("uses", "").startswith("docker/build-push")
    )
    assert build["with"]["push"] == "${{ github.event_name != 'pull_request' }}"
    assert any(
        s.get("uses", "").startswith("docker/setup-buildx-action") for s in jobs["image"]["steps"]
    )
