"""Every service, the console included, answers a Prometheus scrape over real HTTP."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from hazardloop.tools.registry import SERVICES
from tests.factories import report_body
from tests.waiting import wait_for


def samples(url: str) -> dict[tuple[str, frozenset], float]:
    answer = httpx.get(f"{url}/metrics", timeout=10)
    assert answer.status_code == 200, answer.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def test_each_service_is_scraped_without_a_token_and_counts_what_it_was_asked(system):
    system.start(*SERVICES)
    filed = httpx.post(f"{system.url('intake')}/reports", json=report_body(), headers=system.headers("emp-1"), timeout=10)
    assert filed.status_code == 201

    created = ("hazardloop_http_requests_total", frozenset({"service": "intake", "route": "/reports", "method": "POST", "status": "201"}.items()))
    assert samples(system.url("intake"))[created] == 1
    for service in SERVICES:  # every projection catches up with the log, and says so
        lag = ("hazardloop_projection_lag_events", frozenset({"service": service}.items()))
        wait_for(lambda service=service, lag=lag: samples(system.url(service)).get(lag) == 0)
        assert httpx.get(f"{system.url(service)}/metrics", headers={"X-Forwarded-For": "198.51.100.4"}).status_code == 404
    sealed = {service for service in SERVICES if ("hazardloop_seal_age_seconds", frozenset({"service": service}.items())) in samples(system.url(service))}
    assert sealed == set(SERVICES) - {"console"}  # its broker user reads no message by sequence
