"""The compose file and the Kubernetes manifests deploy every service, the console included,
with the settings it needs, and never with the demo sign-in."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import yaml
from pydantic.aliases import AliasChoices

from hazardloop.tools.registry import SERVICES, app_module

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
INIT_SQL = (DEPLOY / "postgres" / "init.sql").read_text()
ENV_EXAMPLE = (DEPLOY / ".env.example").read_text()

NOT_FOR_THE_CONSOLE = {
    "HAZARDLOOP_RECEIPT_KEY", "HAZARDLOOP_FORM_KEY", "HAZARDLOOP_WEBHOOK_KEY", "HAZARDLOOP_MASTER_KEYS",
    "HAZARDLOOP_OIDC_JWKS_URL",  # found through the provider's discovery document
}
"""Settings without a usable production default that the console does not need."""
ONE_CLUSTER = {"HAZARDLOOP_SITE", "HAZARDLOOP_PLACEMENT"}
"""Unset, they mean one cluster holds every subsidiary: a usable default (sites set them)."""


def env_name(name: str, field) -> str:
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        alias = alias.choices[0]
    return alias if isinstance(alias, str) else f"HAZARDLOOP_{name.upper()}"


def needed_by_the_console() -> set[str]:
    """Every console setting whose default cannot serve a deployment: unset (None, {}) or
    pointing at this machine's loopback. A new such setting must be set in deploy/ too."""
    fields = app_module("console").Settings.model_fields
    unusable = {env_name(name, field) for name, field in fields.items() if field.default in (None, {}) or "127.0.0.1" in str(field.default)}
    return unusable - NOT_FOR_THE_CONSOLE - ONE_CLUSTER


def k8s_documents(name: str) -> list[dict]:
    return list(yaml.safe_load_all((DEPLOY / "k8s" / name).read_text()))


def deployment(service: str) -> dict:
    [found] = [d for d in k8s_documents(f"{service}.yaml") if d["kind"] == "Deployment"]
    return found


def k8s_settings(service: str) -> set[str]:
    """Everything a service's pod is given: the ConfigMap, its env and its mounted key files."""
    [configmap] = k8s_documents("configmap.yaml")
    pod = deployment(service)["spec"]["template"]["spec"]
    [container] = pod["containers"]
    [keys] = [v for v in pod["volumes"] if v["name"] == "keys"]
    return set(configmap["data"]) | {e["name"] for e in container["env"]} | {item["path"] for item in keys["secret"]["items"]}


def test_the_demo_sign_in_is_never_turned_on_by_anything_in_deploy():
    mentions = [str(p.relative_to(DEPLOY)) for p in DEPLOY.rglob("*") if p.is_file() and "DEV_SIGNIN" in p.read_text(errors="replace").upper()]
    assert mentions == []


@pytest.mark.parametrize("service", SERVICES)
def test_compose_runs_every_service_with_its_own_database_after_the_broker_and_the_store(service):
    entry = COMPOSE["services"][service]
    assert entry["command"][:2] == ["serve", service]
    assert entry["healthcheck"]["test"][-1] == "/healthz"
    assert {"nats-1", "nats-2", "nats-3", "postgres"} <= set(entry["depends_on"])
    url = entry["environment"][f"HAZARDLOOP_{service.upper()}_DATABASE_URL"]
    assert url.startswith(f"postgresql+psycopg://hazardloop_{service}:${{{service.upper()}_DB_PASSWORD}}@postgres:5432/hazardloop_{service}")
    assert f"CREATE ROLE hazardloop_{service} LOGIN PASSWORD :'{service}_password';" in INIT_SQL
    assert f"CREATE DATABASE hazardloop_{service} OWNER hazardloop_{service};" in INIT_SQL
    assert f"REVOKE ALL ON DATABASE hazardloop_{service} FROM PUBLIC;" in INIT_SQL
    assert f"{service.upper()}_DB_PASSWORD" in COMPOSE["services"]["postgres"]["environment"]


@pytest.mark.parametrize("service", SERVICES)
def test_kubernetes_runs_every_service_on_its_port_with_its_database(service):
    port = app_module(service).Settings.model_fields["port"].default
    [container] = deployment(service)["spec"]["template"]["spec"]["containers"]
    assert container["args"][:2] == ["serve", service]
    assert container["ports"] == [{"name": "http", "containerPort": port}]
    [svc] = [d for d in k8s_documents(f"{service}.yaml") if d["kind"] == "Service"]
    assert svc["spec"]["ports"][0]["port"] == port
    assert deployment(service)["spec"]["replicas"] == 1  # one checkpointed writer per projection
    [secret] = [d for d in k8s_documents("secret.template.yaml") if d["metadata"]["name"] == "hazardloop"]
    assert f"{service}-database-url" in secret["stringData"]
    assert f"HAZARDLOOP_{service.upper()}_DATABASE_URL" in k8s_settings(service)


@pytest.mark.parametrize("service", SERVICES)
def test_the_container_health_probe_knows_every_services_port(service):
    spec = importlib.util.spec_from_file_location("healthcheck", DEPLOY / "healthcheck.py")
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    assert probe.DEFAULT_PORTS[service] == app_module(service).Settings.model_fields["port"].default


def test_compose_gives_the_console_every_setting_it_needs_and_its_own_broker_user():
    environment = COMPOSE["services"]["console"]["environment"]
    assert needed_by_the_console() - set(environment) == set()
    assert environment["NATS_URL"].startswith("nats://console:${NATS_CONSOLE_PASSWORD")
    assert {environment[f"HAZARDLOOP_{s.upper()}_URL"] for s in SERVICES if s != "console"} == {
        "http://intake:8101", "http://verification:8102", "http://rewards:8103", "http://notifications:8104"
    }
    keys = {name for name in environment if name.endswith(("_KEY", "_KEYS", "_SECRET")) and name.startswith("HAZARDLOOP_")}
    assert keys == {"HAZARDLOOP_JWT_SECRET", "HAZARDLOOP_PSEUDONYM_KEY", "HAZARDLOOP_MASTER_KEYS", "HAZARDLOOP_OIDC_CLIENT_SECRET"}


def test_kubernetes_gives_the_console_every_setting_it_needs_and_its_own_broker_user():
    assert needed_by_the_console() - k8s_settings("console") == set()
    [container] = deployment("console")["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["NATS_URL"]["value"] == "nats://console:$(NATS_CONSOLE_PASSWORD)@$(NATS_SERVER)"
    assert env["HAZARDLOOP_CONSOLE_PUBLIC_URL"]["value"].startswith("https://")  # Secure cookies
    assert env["HAZARDLOOP_OIDC_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"] == {"name": "hazardloop", "key": "oidc-client-secret"}
    [keys] = [v for v in deployment("console")["spec"]["template"]["spec"]["volumes"] if v["name"] == "keys"]
    assert {item["key"] for item in keys["secret"]["items"]} == {"HAZARDLOOP_JWT_SECRET", "HAZARDLOOP_PSEUDONYM_KEY", "HAZARDLOOP_MASTER_KEYS"}
    [ingress] = k8s_documents("console-ingress.yaml")
    [rule] = ingress["spec"]["rules"]
    assert rule["http"]["paths"][0]["backend"]["service"]["name"] == "console"
    assert [rule["host"]] == ingress["spec"]["tls"][0]["hosts"]
    assert env["HAZARDLOOP_CONSOLE_PUBLIC_URL"]["value"] == f"https://{rule['host']}"


def test_kubernetes_publishes_the_reporters_pages_alone_at_the_address_the_qr_codes_and_sign_in_name():
    [container] = deployment("intake")["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    [ingress] = k8s_documents("report-ingress.yaml")
    [rule] = ingress["spec"]["rules"]
    assert [(p["path"], p["backend"]["service"]["name"]) for p in rule["http"]["paths"]] == [("/f", "intake")]
    assert [rule["host"]] == ingress["spec"]["tls"][0]["hosts"]
    assert env["HAZARDLOOP_INTAKE_PUBLIC_URL"]["value"] == f"https://{rule['host']}"  # Secure cookies, QR links


@pytest.mark.parametrize("template", ["compose.yaml", "k8s/secret.template.yaml"])
def test_every_variable_the_stack_reads_from_deploy_env_is_in_the_example(template):
    text = re.sub(r"#[^\n]*", "", (DEPLOY / template).read_text())  # comments show examples, not settings
    referenced = set(re.findall(r"\$\{([A-Z0-9_]+)", text)) - {"POSTGRES_HOST"}
    listed = set(re.findall(r"^([A-Z0-9_]+)=", ENV_EXAMPLE, re.MULTILINE))
    assert referenced - listed == set()
