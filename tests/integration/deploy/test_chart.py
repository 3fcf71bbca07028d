"""The Helm chart, rendered by Helm's own engine (helm-python-sdk) for one cluster and for an
edge site: every object is valid against the Kubernetes API's schemas, every service runs its
image by digest with the settings, Secrets and keys it needs, and nothing renders without the
digest."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from hazardloop.runtime.settings import CommonSettings
from hazardloop.tools.registry import SERVICES, app_module
from tests.integration.deploy.needs import needed_by_the_console

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
CHART = DEPLOY / "helm" / "hazardloop"
DIGEST = "sha256:" + "0123456789abcdef" * 4
NAMESPACE = "hazardloop"
SITE = "values-site.yaml"
SITE_SETTINGS = ("HAZARDLOOP_SITE", "HAZARDLOOP_PLACEMENT")
"""The settings naming a site's JetStream domain and where the other subsidiaries are."""
KUBERNETES = ("1.30.0", kubernetes_validate.latest_version())
"""The oldest Kubernetes the chart is checked against, and the newest the schemas know."""
KEYS = {
    "intake": {"HAZARDLOOP_JWT_SECRET", "HAZARDLOOP_PSEUDONYM_KEY", "HAZARDLOOP_RECEIPT_KEY", "HAZARDLOOP_FORM_KEY", "HAZARDLOOP_MASTER_KEYS"},
    "verification": {"HAZARDLOOP_JWT_SECRET", "HAZARDLOOP_PSEUDONYM_KEY", "HAZARDLOOP_MASTER_KEYS"},
    "rewards": {"HAZARDLOOP_JWT_SECRET", "HAZARDLOOP_PSEUDONYM_KEY", "HAZARDLOOP_MASTER_KEYS"},
    "notifications": {"HAZARDLOOP_JWT_SECRET", "HAZARDLOOP_PSEUDONYM_KEY", "HAZARDLOOP_WEBHOOK_KEY", "HAZARDLOOP_MASTER_KEYS"},
    "console": {"HAZARDLOOP_JWT_SECRET", "HAZARDLOOP_PSEUDONYM_KEY", "HAZARDLOOP_MASTER_KEYS"},
}
"""The key-ring files each pod mounts: these and no others (deploy/README.md, "Keys")."""


def merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` laid over ``base`` as Helm lays a values file over another."""
    result = dict(base)
    for key, value in over.items():
        result[key] = merged(result[key], value) if isinstance(value, dict) and isinstance(result.get(key), dict) else value
    return result


def render(values_file: str | None = None, **values: Any) -> list[dict[str, Any]]:
    """``helm template`` of the chart with ``values_file`` (besides values.yaml) and ``values``."""
    given = yaml.safe_load((CHART / values_file).read_text()) if values_file else {}
    with helm.Chart.load(CHART) as chart:
        manifests = chart.render(merged(given, values), name="hazardloop", namespace=NAMESPACE)
    return [doc for text in manifests.values() for doc in yaml.safe_load_all(text) if doc]


@cache
def rendered(values_file: str | None = None) -> list[dict[str, Any]]:
    """The chart as installed with a digest; rendered once per values file, only read after."""
    return render(values_file, image={"digest": DIGEST})


def objects(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    [found] = deployment["spec"]["template"]["spec"]["containers"]
    return found


def mounted_keys(deployment: dict[str, Any]) -> set[str]:
    [keys] = [v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == "keys"]
    return {item["key"] for item in keys["secret"]["items"]}


def settings(docs: list[dict[str, Any]], service: str) -> set[str]:
    """Everything a service's pod is given: the ConfigMap, its env and its mounted key files."""
    deployment = objects(docs, "Deployment")[service]
    return set(objects(docs, "ConfigMap")["hazardloop"]["data"]) | {e["name"] for e in container(deployment)["env"]} | mounted_keys(deployment)


def secret_template() -> dict[str, set[str]]:
    """Each Secret deploy/k8s/secret.template.yaml creates, with its keys."""
    docs = yaml.safe_load_all((DEPLOY / "k8s" / "secret.template.yaml").read_text())
    return {doc["metadata"]["name"]: set(doc["stringData"]) for doc in docs}


def test_nothing_renders_without_the_images_digest():
    with pytest.raises(helm.HelmRenderError, match="image.digest is required"):
        render()


def test_a_tag_in_place_of_the_digest_is_refused_naming_the_value():
    with pytest.raises(helm.HelmRenderError, match='image.digest must be sha256:<64 hex digits>, not "latest"'):
        render(image={"digest": "latest"})


def test_helm_lint_finds_nothing_to_warn_about():
    report = helm.lint(CHART, {"image": {"digest": DIGEST}}, strict=True)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize("version", KUBERNETES)
@pytest.mark.parametrize("values_file", [None, SITE])
def test_every_rendered_object_is_valid_for_kubernetes(values_file, version):
    docs = rendered(values_file)
    assert {doc["kind"] for doc in docs} == {"ConfigMap", "Deployment", "Service", "Ingress"}
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)  # unknown fields too: a typo is an error
        assert doc["metadata"]["namespace"] == NAMESPACE


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_runs_its_image_by_digest_alone_on_its_port_with_its_database(service):
    docs = rendered()
    port = app_module(service).Settings.model_fields["port"].default
    deployment = objects(docs, "Deployment")[service]
    pod = container(deployment)
    assert pod["image"] == f"registry.change-me.example/hazardloop@{DIGEST}"
    assert pod["args"][:2] == ["serve", service]
    assert pod["ports"] == [{"name": "http", "containerPort": port}]
    assert objects(docs, "Service")[service]["spec"]["ports"][0]["port"] == port
    # One checkpointed writer per projection: never two pods, not even during a rollout.
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert f"HAZARDLOOP_{service.upper()}_DATABASE_URL" in settings(docs, service)


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_mounts_its_own_keys_and_no_others_readable_by_its_group_alone(service):
    deployment = objects(rendered(), "Deployment")[service]
    assert mounted_keys(deployment) == KEYS[service]
    [keys] = [v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == "keys"]
    assert keys["secret"]["defaultMode"] == 0o440
    assert {"name": "keys", "mountPath": "/run/secrets/hazardloop", "readOnly": True} in container(deployment)["volumeMounts"]
    assert objects(rendered(), "ConfigMap")["hazardloop"]["data"]["HAZARDLOOP_SECRETS_DIR"] == "/run/secrets/hazardloop"


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_runs_unprivileged_and_read_only_in_production_mode(service):
    docs = rendered()
    deployment = objects(docs, "Deployment")[service]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert container(deployment)["securityContext"] == {
        "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}
    }
    assert container(deployment)["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert objects(docs, "ConfigMap")["hazardloop"]["data"]["HAZARDLOOP_ENV"] == "production"


@pytest.mark.parametrize("values_file", [None, SITE])
def test_every_secret_a_pod_reads_is_one_the_secret_template_creates(values_file):
    created = secret_template()
    for deployment in objects(rendered(values_file), "Deployment").values():
        for env in container(deployment)["env"]:
            if "valueFrom" in env:
                ref = env["valueFrom"]["secretKeyRef"]
                assert ref["key"] in created[ref["name"]], (deployment["metadata"]["name"], ref)
        [keys] = [v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == "keys"]
        assert mounted_keys(deployment) <= created[keys["secret"]["secretName"]]


def test_the_console_gets_every_setting_it_needs_and_its_own_broker_user():
    docs = rendered()
    assert needed_by_the_console() - settings(docs, "console") == set()
    env = {e["name"]: e for e in container(objects(docs, "Deployment")["console"])["env"]}
    assert env["NATS_URL"]["value"] == "nats://console:$(NATS_CONSOLE_PASSWORD)@$(NATS_SERVER)"
    assert env["NATS_CONSOLE_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "nats-auth", "key": "console-password"}
    assert env["HAZARDLOOP_OIDC_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"] == {"name": "hazardloop", "key": "oidc-client-secret"}
    assert {env[f"HAZARDLOOP_{s.upper()}_URL"]["value"] for s in SERVICES if s != "console"} == {
        "http://intake:8101", "http://verification:8102", "http://rewards:8103", "http://notifications:8104"
    }
    [rule] = objects(docs, "Ingress")["console"]["spec"]["rules"]
    assert rule["http"]["paths"][0]["backend"]["service"]["name"] == "console"
    assert [rule["host"]] == objects(docs, "Ingress")["console"]["spec"]["tls"][0]["hosts"]
    assert env["HAZARDLOOP_CONSOLE_PUBLIC_URL"]["value"] == f"https://{rule['host']}"  # Secure cookies


@pytest.mark.parametrize("service", [s for s in SERVICES if s != "console"])
def test_the_services_connect_as_the_services_broker_user(service):
    env = {e["name"]: e for e in container(objects(rendered(), "Deployment")[service])["env"]}
    assert env["NATS_URL"]["value"] == "nats://hazardloop:$(NATS_SERVICE_PASSWORD)@$(NATS_SERVER)"
    assert env["NATS_SERVICE_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "nats-auth", "key": "service-password"}


@pytest.mark.parametrize("values_file", [None, SITE])
def test_the_reporters_pages_alone_are_published_at_the_address_the_qr_codes_and_sign_in_name(values_file):
    docs = rendered(values_file)
    env = {e["name"]: e for e in container(objects(docs, "Deployment")["intake"])["env"]}
    ingress = objects(docs, "Ingress")["report"]
    [rule] = ingress["spec"]["rules"]
    assert [(p["path"], p["backend"]["service"]["name"]) for p in rule["http"]["paths"]] == [("/f", "intake")]
    assert [rule["host"]] == ingress["spec"]["tls"][0]["hosts"]
    assert env["HAZARDLOOP_INTAKE_PUBLIC_URL"]["value"] == f"https://{rule['host']}"  # Secure cookies, QR links


def test_a_public_host_given_as_a_url_is_refused_naming_the_value():
    with pytest.raises(helm.HelmRenderError, match="console.host must be a bare DNS name"):
        render(image={"digest": DIGEST}, console={"host": "https://console.example.com"})


def test_a_site_runs_the_four_services_without_the_console_on_its_own_domain_and_tenants():
    docs = rendered(SITE)
    assert set(objects(docs, "Deployment")) == set(SERVICES) - {"console"}
    assert set(objects(docs, "Service")) == set(SERVICES) - {"console"}
    assert set(objects(docs, "Ingress")) == {"report"}
    site = yaml.safe_load((CHART / SITE).read_text())["settings"]
    data = objects(docs, "ConfigMap")["hazardloop"]["data"]
    assert {name: data[name] for name in SITE_SETTINGS} == {name: str(site[name]) for name in SITE_SETTINGS}
    assert data["HAZARDLOOP_ENV"] == "production"
    topology = CommonSettings(**{name.removeprefix("HAZARDLOOP_").lower(): data[name] for name in ("HAZARDLOOP_SITE", "HAZARDLOOP_PLACEMENT", "HAZARDLOOP_TENANTS")}).topology
    assert (topology.site, topology.hosted, topology.is_hub) == ("site-a", ("refinery",), False)


def test_the_settings_the_chart_owns_cannot_be_overridden():
    with pytest.raises(helm.HelmRenderError, match="settings.HAZARDLOOP_ENV is set by the chart"):
        render(image={"digest": DIGEST}, settings={"HAZARDLOOP_ENV": "development"})


def test_the_console_ingress_publishes_every_page_but_the_metrics():
    ingress = objects(rendered(), "Ingress")["console"]
    [rule] = ingress["spec"]["rules"]
    [path] = rule["http"]["paths"]
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/use-regex"] == "true"
    published = re.compile(path["path"])  # ingress-nginx anchors it at the start of the path
    for page in ("/", "/console", "/console/cases/RPT-1", "/signin/callback", "/metrics-explained"):
        assert published.match(page), page
    for scrape in ("/metrics", "/metrics/", "/metrics/anything"):
        assert not published.match(scrape), scrape


@pytest.mark.parametrize("service", SERVICES)
def test_pods_announce_their_metrics_on_their_own_port(service):
    template = objects(rendered(), "Deployment")[service]["spec"]["template"]
    annotations = template["metadata"]["annotations"]
    [port] = container(objects(rendered(), "Deployment")[service])["ports"]
    scrape = {key: value for key, value in annotations.items() if key.startswith("prometheus.io/")}
    assert scrape == {"prometheus.io/scrape": "true", "prometheus.io/port": str(port["containerPort"]), "prometheus.io/path": "/metrics"}
    assert template["metadata"]["labels"]["app.kubernetes.io/part-of"] == "hazardloop"  # what the example scrape job selects
