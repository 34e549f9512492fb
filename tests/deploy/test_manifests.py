"""The deployment manifests validate offline and agree with the code.

Kubernetes: ``kubernetes-validate`` (it ships the API schemas), pinned to one version.
Compose: the compose specification's JSON schema as ``check-jsonschema`` ships it
(``vendor.compose-spec``), plus the references between the services. NATS: the stream and
consumer definitions against what ``runtime/bus/nats.py`` and the services create.
"""

from __future__ import annotations

import asyncio
import copy
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from nats.js.errors import NotFoundError

import runtime.bus.nats as nats_module
from kim.assembly import build_app
from kim.cluster_config import (
    find_nginx,
    nginx_values,
    plan_cluster,
    render_proxy,
    service_order,
    write_run_dir,
)
from runtime.bus.nats import NatsBus, consumer_name
from runtime.platform import Platform
from runtime.settings import Settings
from tests.conftest import IN_CI

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S_VERSION = "1.30.0"
"""The Kubernetes version the manifests are checked against (its schemas ship offline)."""
NS_PER_SECOND = 1_000_000_000


def k8s_documents() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                docs.append((path.name, doc))
    return docs


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in k8s_documents() if doc["kind"] == kind]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    return loaded


def dns(service: str) -> str:
    return "kim-" + service.replace("_", "-")


# -- Kubernetes -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "doc"), k8s_documents(), ids=lambda v: str(v)[:40])
def test_every_kubernetes_manifest_validates_strictly(name: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_kubernetes_validator_refuses_an_unknown_field() -> None:
    deployment = copy.deepcopy(of_kind("Deployment")[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


def test_each_service_has_a_deployment_with_probes_resources_a_service_and_a_budget() -> None:
    deployments = {d["metadata"]["name"]: d for d in of_kind("Deployment")}
    services = {s["metadata"]["name"]: s for s in of_kind("Service")}
    budgets = {b["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] for b in of_kind(
        "PodDisruptionBudget"
    )}  # fmt: skip
    assert set(deployments) == {dns(s) for s in service_order()}
    for service in service_order():
        spec = deployments[dns(service)]["spec"]
        container = spec["template"]["spec"]["containers"][0]
        assert container["args"][:3] == ["serve", "--service", service]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert {c["configMapRef"]["name"] for c in container["envFrom"] if "configMapRef" in c}
        assert {c["secretRef"]["name"] for c in container["envFrom"] if "secretRef" in c}
        labels = spec["template"]["metadata"]["labels"]
        selector = services[dns(service)]["spec"]["selector"]
        assert selector.items() <= labels.items()
        assert dns(service) in budgets


def test_the_ingress_routes_every_prefix_to_an_existing_service() -> None:
    services = {s["metadata"]["name"] for s in of_kind("Service")}
    (ingress,) = of_kind("Ingress")
    routes = {
        p["path"]: p["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for p in rule["http"]["paths"]
    }
    expected = {f"/{s}": dns(s) for s in service_order() if s != "gateway"}
    assert routes == {**expected, "/graphql": "kim-gateway", "/": "kim-gateway"}
    assert set(routes.values()) <= services


def test_the_secret_holds_placeholders_only() -> None:
    (secret,) = of_kind("Secret")
    assert {"KIM_EVENT_STORE", "KIM_AUDIT_PSEUDONYM_SECRET", "KIM_IDEMPOTENCY_SECRET"} <= set(
        secret["stringData"]
    )
    assert all("CHANGE-ME" in value for value in secret["stringData"].values())


def test_every_kubernetes_setting_is_one_the_platform_reads() -> None:
    (config,) = [c for c in of_kind("ConfigMap") if c["metadata"]["name"] == "kim-config"]
    known = {f"KIM_{name.upper()}" for name in Settings.model_fields} | {
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    }
    (secret,) = of_kind("Secret")
    assert set(config["data"]) | set(secret["stringData"]) <= known
    assert config["data"]["KIM_NATS_REPLICAS"] == "3"


# -- Compose --------------------------------------------------------------------------------


def check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    schema = ["--builtin-schema", "vendor.compose-spec"]
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", *schema, str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_the_compose_file_validates_against_the_compose_specification() -> None:
    done = check_compose(DEPLOY / "compose.yaml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_compose_schema_refuses_an_unknown_service_key(tmp_path: Path) -> None:
    broken = compose()
    broken["services"]["postgres"]["healthchek"] = broken["services"]["postgres"]["healthcheck"]
    (tmp_path / "compose.yaml").write_text(yaml.safe_dump(broken), encoding="utf-8")
    assert check_compose(tmp_path / "compose.yaml").returncode == 1


def test_compose_references_resolve_and_every_service_is_health_checked() -> None:
    spec = compose()
    services: dict[str, Any] = spec["services"]
    volumes = set(spec["volumes"])
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert source in volumes, f"{name} mounts undeclared volume {source}"
        if name != "kim-init":
            assert "healthcheck" in service, name
    for index, service in enumerate(service_order()):
        container = services[dns(service)]
        assert container["command"][:3] == ["serve", "--service", service]
        port = container["command"][4]
        assert port == str(8001 + index)
        assert f"http://127.0.0.1:{port}/readyz" in " ".join(container["healthcheck"]["test"])
    assert set(services["nginx"]["depends_on"]) == {dns(s) for s in service_order()}
    nats = [n for n in services if n.startswith("nats-")]
    assert len(nats) == 3
    for node in nats:
        command = services[node]["command"]
        assert "-js" in command
        assert all(f"{other}:6222" in command[command.index("--routes") + 1] for other in nats)
    assert services["kim-tenancy"]["environment"]["KIM_NATS_REPLICAS"] == "3"


# -- NATS -----------------------------------------------------------------------------------


class FakeJetStream:
    def __init__(self) -> None:
        self.added: list[Any] = []

    async def stream_info(self, name: str) -> Any:
        raise NotFoundError()

    async def add_stream(self, config: Any = None, **params: Any) -> None:
        self.added.append(config)


class FakeClient:
    """Stands in for the NATS client: records the stream the bus asks for."""

    jetstream_api = FakeJetStream()

    def __init__(self) -> None:
        self.is_closed = False
        self.is_connected = True

    async def connect(self, *args: Any, **kwargs: Any) -> None:
        return None

    def jetstream(self, **kwargs: Any) -> FakeJetStream:
        return self.jetstream_api

    async def close(self) -> None:
        self.is_closed = True


def stream_the_bus_creates(monkeypatch: pytest.MonkeyPatch) -> Any:
    FakeClient.jetstream_api = FakeJetStream()
    monkeypatch.setattr(nats_module, "Client", FakeClient)

    async def run() -> None:
        bus = NatsBus("nats://127.0.0.1:1", replicas=3)
        await bus.connect()
        await bus.close()

    asyncio.run(run())
    (config,) = FakeClient.jetstream_api.added
    return config


def test_the_stream_definition_agrees_with_what_the_bus_creates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    created = stream_the_bus_creates(monkeypatch)
    shipped = json.loads((DEPLOY / "nats" / "stream.json").read_text(encoding="utf-8"))
    assert shipped["name"] == created.name == Settings().nats_stream
    assert shipped["subjects"] == created.subjects == ["kim.>"]
    assert shipped["storage"] == created.storage.value == "file"
    assert shipped["retention"] == created.retention.value == "limits"
    assert shipped["duplicate_window"] == created.duplicate_window * NS_PER_SECOND
    assert shipped["duplicate_window"] == 120 * NS_PER_SECOND
    assert shipped["num_replicas"] == created.num_replicas == 3
    (jetstream,) = [c for c in of_kind("ConfigMap") if c["metadata"]["name"] == "kim-jetstream"]
    assert json.loads(jetstream["data"]["stream.json"]) == shipped


def durable_consumers() -> dict[str, str]:
    """The durable consumers every service process subscribes, by name: their subjects."""
    found: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(event_store=f"sqlite:///{tmp}/kim-data", bus="memory")
        for service in service_order():
            platform = Platform(settings)
            try:
                build_app(settings, [service], platform=platform)
                for consumer in platform._consumers:
                    found[consumer_name(consumer.name)] = consumer.subject
            finally:
                platform.close()
    return found


def test_the_consumer_definitions_are_the_durable_consumers_of_the_services() -> None:
    shipped = {}
    for path in sorted((DEPLOY / "nats" / "consumers").glob("*.json")):
        consumer = json.loads(path.read_text(encoding="utf-8"))
        assert path.stem == consumer["durable_name"]
        assert consumer["ack_policy"] == "explicit"
        assert consumer["deliver_policy"] == "all"
        shipped[consumer["durable_name"]] = consumer["filter_subject"]
    assert shipped == durable_consumers()


# -- nginx ----------------------------------------------------------------------------------


def test_the_proxy_template_renders_every_placeholder_and_nginx_accepts_it(
    tmp_path: Path,
) -> None:
    settings = Settings(cluster_base_port=18401, proxy_port=18400, max_body_bytes=2 * 1024 * 1024)
    plan = plan_cluster(settings, tmp_path / "run")
    text = render_proxy(nginx_values(plan), list(plan.ports))
    assert "{{" not in text
    assert "client_max_body_size 2097152;" in text
    assert "server 127.0.0.1:18403;" in text  # case_management, the third service
    for service in service_order():
        prefix = "/graphql" if service == "gateway" else f"/{service}/"
        assert f"location {prefix} {{ proxy_pass http://kim_{service}; }}" in text
    if plan.nginx is None:
        if IN_CI:
            pytest.fail("nginx is not installed; under CI=true .ci/run installs it")
        pytest.skip("nginx is not installed")
    write_run_dir(plan)
    conf = plan.run_dir / "nginx.conf"
    paths = ["-e", str(plan.log_dir / "e.log"), "-p", str(plan.run_dir), "-c", str(conf)]
    done = subprocess.run(
        [plan.nginx, "-t", "-q", *paths],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert find_nginx() == plan.nginx
