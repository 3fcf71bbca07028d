"""The compose file deploys every service, the console included, with the settings it needs and
pinned images, and nothing in deploy/ turns the demo sign-in on (the Helm chart: test_chart.py)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import yaml
from hazardloop.tools.registry import SERVICES, app_module
from tests.integration.deploy.needs import needed_by_the_console

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
INIT_SQL = (DEPLOY / "postgres" / "init.sql").read_text()
ENV_EXAMPLE = (DEPLOY / ".env.example").read_text()
PINNED_TAG = re.compile(r"[a-z0-9./-]+:\d+\.\d+(\.\d+)?(-[a-z0-9]+)?")
"""An image tagged with a release (2.15.1-alpine, 16.14), never a major alone or a word (16, alpine)."""


def test_the_demo_sign_in_is_never_turned_on_by_anything_in_deploy():
    mentions = [str(p.relative_to(DEPLOY)) for p in DEPLOY.rglob("*") if p.is_file() and "DEV_SIGNIN" in p.read_text(errors="replace").upper()]
    assert mentions == []


def test_compose_runs_third_party_images_of_a_release_and_postgres_by_its_digest():
    """nats has no digest here yet (none published for 2.15.1 could be checked): its tag is
    exact, and deploy/README.md says how an operator appends the digest."""
    for service in ("nats-1", "nats-2", "nats-3", "postgres"):
        image, _, digest = COMPOSE["services"][service]["image"].partition("@")
        assert PINNED_TAG.fullmatch(image), image
        assert digest == "" or re.fullmatch(r"sha256:[0-9a-f]{64}", digest), digest
    assert "@sha256:" in COMPOSE["services"]["postgres"]["image"]


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


@pytest.mark.parametrize("template", ["compose.yaml", "k8s/secret.template.yaml"])
def test_every_variable_the_stack_reads_from_deploy_env_is_in_the_example(template):
    text = re.sub(r"#[^\n]*", "", (DEPLOY / template).read_text())  # comments show examples, not settings
    referenced = set(re.findall(r"\$\{([A-Z0-9_]+)", text)) - {"POSTGRES_HOST"}
    listed = set(re.findall(r"^([A-Z0-9_]+)=", ENV_EXAMPLE, re.MULTILINE))
    assert referenced - listed == set()

