"""The shipped dashboard and alert rules watch metrics the services really export.

The names are read from each service's own ``/metrics`` (an app built, not connected: every
family is declared, with or without a value), so a renamed metric fails here, not on an
operator's empty panel or a silent alert.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from hazardloop.tools.registry import SERVICES, app_module

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "hazardloop.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yaml"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.example.yaml"

SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum", "_created"), "gauge": ("",)}
PROMETHEUS_OWN = {"up"}
"""Series Prometheus records itself for every target."""


def exported(state: Path) -> frozenset[str]:
    """Every series name the services' scrapes can hold."""
    names = set()
    for service in SERVICES:
        settings = app_module(service).Settings(
            state_dir=str(state / service), nats_url="nats://127.0.0.1:1", jwt_secret="metrics-only", pseudonym_key="metrics-only"
        )
        answer = TestClient(app_module(service).build(settings)).get("/metrics")
        assert answer.status_code == 200, service
        for family in text_string_to_metric_families(answer.text):
            names |= {family.name + suffix for suffix in SUFFIXES[family.type]}
    return frozenset(names)


@pytest.fixture(scope="module")
def names(tmp_path_factory: pytest.TempPathFactory) -> frozenset[str]:
    return exported(tmp_path_factory.mktemp("metrics"))


def metrics_in(expression: str) -> set[str]:
    """The series an expression selects (ours are prefixed; the rest is PromQL or labels)."""
    ours = set(re.findall(r"\bhazardloop_\w+", expression))
    return ours | {word for word in re.findall(r"\b\w+(?=\{)", expression) if word in PROMETHEUS_OWN}


def test_every_service_exports_the_families_operators_rely_on(names):
    assert {
        "hazardloop_http_requests_total", "hazardloop_http_request_duration_seconds_bucket", "hazardloop_projection_position",
        "hazardloop_projection_lag_events", "hazardloop_dead_letters", "hazardloop_notification_deliveries",
        "hazardloop_timers_due", "hazardloop_seal_age_seconds", "hazardloop_unsealed_events",
    } <= names


def test_the_dashboard_parses_and_each_panel_queries_exported_metrics(names):
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert expressions and all(panel["targets"] for panel in dashboard["panels"])
    for expression in expressions:
        used = metrics_in(expression)
        assert used, expression
        assert used <= names | PROMETHEUS_OWN, f"{expression} reads {used - names - PROMETHEUS_OWN}, which no service exports"
    shown = " ".join(expressions)
    for watched in ("hazardloop_http_requests_total", 'status=~"5..', "histogram_quantile(0.95", "histogram_quantile(0.99",
                    "hazardloop_projection_lag_events", "hazardloop_dead_letters", "hazardloop_notification_deliveries",
                    "hazardloop_timers_due", "hazardloop_seal_age_seconds"):
        assert watched in shown, f"the dashboard shows nothing of {watched}"
    [datasource] = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
    assert all(panel["datasource"]["uid"] == f"${{{datasource['name']}}}" for panel in dashboard["panels"])


def test_the_alert_rules_have_the_rule_file_shape_and_watch_exported_metrics(names):
    rules = yaml.safe_load(ALERTS.read_text())
    assert set(rules) == {"groups"}
    [group] = rules["groups"]
    assert set(group) == {"name", "rules"}
    alerts = {rule["alert"]: rule for rule in group["rules"]}
    assert len(alerts) == len(group["rules"]), "alert names are unique"
    for name, rule in alerts.items():
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, name
        assert re.fullmatch(r"\d+[smh]", rule.get("for", "0s")), name
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
        assert rule["annotations"]["summary"] and rule["annotations"]["runbook"], name
        used = metrics_in(rule["expr"])
        assert used and used <= names | PROMETHEUS_OWN, f"{name}: {used - names - PROMETHEUS_OWN} is exported by no service"
    watched = " ".join(rule["expr"] for rule in alerts.values())
    for metric in ("up", "hazardloop_projection_lag_events", "hazardloop_dead_letters", "hazardloop_timers_overdue_seconds",
                   "hazardloop_notification_deliveries", "hazardloop_seal_age_seconds"):
        assert metric in watched, f"no alert watches {metric}"


def test_the_service_down_alert_names_the_scrape_job_of_the_example_configuration():
    config = yaml.safe_load(PROMETHEUS.read_text())
    [job] = config["scrape_configs"]
    assert 'up{job="' + job["job_name"] + '"}' in ALERTS.read_text()
    assert config["rule_files"] == [ALERTS.name]
    [targets] = job["static_configs"]
    ports = {service: app_module(service).Settings.model_fields["port"].default for service in SERVICES}
    assert sorted(targets["targets"]) == sorted(f"{service}:{port}" for service, port in ports.items())


def promtool() -> str:
    found = shutil.which("promtool") or shutil.which("promtool", path=str(Path(__file__).resolve().parents[3] / ".venv" / "bin"))
    if found is None:
        pytest.skip("promtool is not installed (make promtool)")
    return found


@pytest.mark.parametrize("check", [["check", "rules", str(ALERTS)], ["check", "config", str(PROMETHEUS)]], ids=["rules", "config"])
def test_promtool_accepts_the_rules_and_the_example_configuration(check):
    checked = subprocess.run([promtool(), *check], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
