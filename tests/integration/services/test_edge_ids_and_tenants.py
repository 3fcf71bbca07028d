"""Hostile ids and made-up subsidiaries at every service's edge, on a real broker.

An id a route takes from its path becomes a subject token: a wildcard in it would turn a
read of one aggregate into a read of a whole subsidiary. A subsidiary outside the
configuration would leave events under it that the log can never be purged of. Both are
refused as a 422 naming the field, and nothing is appended.
"""

from __future__ import annotations

import asyncio

import nats
import pytest

from hazardloop.log.eventstore import EventStore, InvalidSubjectToken, Subjects
from hazardloop.web.auth import Role
from tests.factories import REPORTER, report_body

HOSTILE_IDS = ["*", "%3E", "a.b", "a%20b", "%2A", "A1", "a%09b", "x" * 64]
"""Wildcards, a dot, whitespace, a tab, upper case, one character too long."""


@pytest.fixture
def services(harness):
    return {name: harness.start(name) for name in ("intake", "verification", "rewards", "notifications")}


def as_(harness, role: Role, tenants=("*",)) -> dict[str, str]:
    return harness.headers(f"{role.value}-1", tenants=tenants, roles=[role])


def id_routes(harness) -> list[tuple[str, str, str, dict]]:
    """(service, method, path with ``{id}``, request arguments) of every route taking an id in its path."""
    refinery = {"tenant": "refinery"}
    return [
        ("intake", "POST", "/reports/{id}/identity", {"json": refinery | {"purpose": "payout"}, "headers": as_(harness, Role.CONFIDENTIALITY_OFFICER)}),
        ("intake", "GET", "/reports/{id}", {"headers": as_(harness, Role.VERIFIER)}),
        ("intake", "POST", "/catalogue/places/{id}/retirement", {"json": refinery | {"reason": "gone"}, "headers": as_(harness, Role.MANAGER)}),
        ("intake", "GET", "/places/{id}/form-link", {"params": refinery, "headers": as_(harness, Role.MANAGER)}),
        ("verification", "POST", "/reports/{id}/acceptance", {"json": {}, "headers": as_(harness, Role.VERIFIER)}),
        ("verification", "GET", "/reports/{id}", {"headers": as_(harness, Role.VERIFIER)}),
        ("verification", "GET", "/reports/{id}/dossier", {"headers": as_(harness, Role.AUDITOR)}),
        ("rewards", "POST", "/rewards/{id}/approval", {"json": {"approve": True}, "headers": as_(harness, Role.MANAGER)}),
        ("rewards", "GET", "/rewards/{id}", {"headers": as_(harness, Role.FINANCE)}),
        ("notifications", "POST", "/deliveries/{id}/retry", {"headers": as_(harness, Role.OPERATOR)}),
        ("notifications", "GET", "/directory/endpoints/{id}/signing-secret", {"params": refinery, "headers": as_(harness, Role.OPERATOR)}),
        ("notifications", "PUT", "/directory/endpoints/{id}", {
            "params": refinery, "json": {"url": "https://hooks.example/x", "roles": ["safety_department"]}, "headers": as_(harness, Role.MANAGER),
        }),
    ]


def test_an_id_that_is_not_one_subject_token_is_a_422_everywhere_and_nothing_is_appended(harness, services):
    before = len(harness.raw_log())
    answers = {}
    for service, method, path, arguments in id_routes(harness):
        for hostile in HOSTILE_IDS:
            response = services[service].request(method, path.replace("{id}", hostile), **arguments)
            detail = response.json().get("detail") if response.headers.get("content-type") == "application/json" else None
            answers[service, path, hostile] = (response.status_code, isinstance(detail, list) and detail[0]["loc"][0])
    assert answers == {key: (422, "path") for key in answers}
    assert len(harness.raw_log()) == before


def test_the_event_store_refuses_a_subject_token_that_could_widen_a_read(harness):
    async def run() -> list[str]:
        connection = await nats.connect(harness.nats_url)
        try:
            store = EventStore(connection, stream=harness.stream, subjects=Subjects(harness.prefix))
            await store.ensure_stream()
            refused = []
            for tenant, aggregate_id in [("refinery", "*"), ("refinery", ">"), ("*", "r1"), ("refinery", "r1.x"), ("refinery", "r 1"), ("refinery", "r\x00")]:
                try:
                    await store.load(tenant, "report", aggregate_id)
                except InvalidSubjectToken:
                    refused.append(aggregate_id)
            return refused
        finally:
            await connection.close()

    assert len(asyncio.run(run())) == 6


def tenant_routes(harness) -> list[tuple[str, str, str, dict]]:
    """(service, method, path, request arguments) of every route naming a subsidiary, for ``atlantis``."""
    atlantis = {"tenant": "atlantis"}
    return [
        ("intake", "POST", "/reports", {"json": report_body(tenant="atlantis"), "headers": as_(harness, Role.VERIFIER)}),
        ("intake", "GET", "/reports", {"params": atlantis, "headers": as_(harness, Role.VERIFIER)}),
        ("intake", "POST", "/catalogue/places", {"json": atlantis | {"place_id": "north", "kind": "site", "name": "North"}, "headers": as_(harness, Role.MANAGER)}),
        ("intake", "POST", "/catalogue/places/north/retirement", {"json": atlantis | {"reason": "gone"}, "headers": as_(harness, Role.MANAGER)}),
        ("intake", "GET", "/catalogue", {"params": atlantis, "headers": as_(harness, Role.MANAGER)}),
        ("intake", "POST", "/attachments", {"params": atlantis, "content": b"\xff\xd8\xff", "headers": as_(harness, Role.VERIFIER)}),
        ("intake", "POST", f"/reporters/{REPORTER}/erasure", {"json": atlantis | {"reason": "left"}, "headers": as_(harness, Role.CONFIDENTIALITY_OFFICER)}),
        ("intake", "POST", "/reports/r1/identity", {"json": atlantis | {"purpose": "payout"}, "headers": as_(harness, Role.CONFIDENTIALITY_OFFICER)}),
        ("intake", "GET", "/disclosures", {"params": atlantis, "headers": as_(harness, Role.AUDITOR)}),
        ("intake", "GET", "/places/bay-3/form-link", {"params": atlantis, "headers": as_(harness, Role.MANAGER)}),
        ("verification", "GET", "/policy", {"params": atlantis, "headers": as_(harness, Role.MANAGER)}),
        ("verification", "PUT", "/policy", {"params": atlantis, "json": {}, "headers": as_(harness, Role.MANAGER)}),
        ("verification", "GET", "/queue", {"params": atlantis, "headers": as_(harness, Role.VERIFIER)}),
        ("rewards", "GET", "/rewards", {"params": atlantis, "headers": as_(harness, Role.FINANCE)}),
        ("rewards", "PUT", "/policy", {"params": atlantis, "json": {}, "headers": as_(harness, Role.MANAGER)}),
        ("rewards", "PUT", "/budgets", {"params": atlantis | {"year": 2026}, "json": {"amount_fen": 100}, "headers": as_(harness, Role.FINANCE)}),
        ("notifications", "GET", "/directory", {"params": atlantis, "headers": as_(harness, Role.MANAGER)}),
        ("notifications", "PUT", "/directory/people/wang", {"params": atlantis, "json": {}, "headers": as_(harness, Role.MANAGER)}),
        ("notifications", "DELETE", "/directory/people/wang", {"params": atlantis, "headers": as_(harness, Role.MANAGER)}),
        ("notifications", "POST", "/directory", {"params": atlantis, "json": {"people": [{"person": "wang"}]}, "headers": as_(harness, Role.MANAGER)}),
        ("notifications", "PUT", "/directory/endpoints/ops", {
            "params": atlantis, "json": {"url": "https://hooks.example/x", "roles": ["safety_department"]}, "headers": as_(harness, Role.MANAGER),
        }),
        ("notifications", "GET", "/directory/endpoints/ops/signing-secret", {"params": atlantis, "headers": as_(harness, Role.OPERATOR)}),
        ("notifications", "GET", "/deliveries", {"params": atlantis, "headers": as_(harness, Role.OPERATOR)}),
    ]


def test_a_made_up_subsidiary_is_a_422_even_for_group_hq_and_nothing_is_appended(harness, services):
    before = len(harness.raw_log())
    answers = {}
    for service, method, path, arguments in tenant_routes(harness):
        response = services[service].request(method, path, **arguments)
        answers[service, method, path] = (response.status_code, "unknown subsidiary 'atlantis'" in response.text)
    assert answers == {key: (422, True) for key in answers}
    assert len(harness.raw_log()) == before
    mine = services["intake"].get("/catalogue", params={"tenant": "atlantis"}, headers=as_(harness, Role.MANAGER, tenants=["refinery"]))
    assert mine.status_code == 422  # an unknown subsidiary is unknown to every token, not forbidden to some


def test_a_signing_secret_is_given_only_for_an_endpoint_the_directory_lists(harness, services):
    notifications = services["notifications"]
    operator, manager = as_(harness, Role.OPERATOR, ["refinery"]), as_(harness, Role.MANAGER, ["refinery"])
    secret = lambda endpoint: notifications.get(f"/directory/endpoints/{endpoint}/signing-secret", params={"tenant": "refinery"}, headers=operator)
    assert secret("ops").status_code == 404
    listed = notifications.put(
        "/directory/endpoints/ops", params={"tenant": "refinery"}, json={"url": "https://hooks.example/x", "roles": ["safety_department"]}, headers=manager
    )
    assert listed.status_code == 200, listed.text
    assert secret("ops").status_code == 200 and len(secret("ops").json()["secret"]) >= 32  # right after it is set
    removed = notifications.delete("/directory/endpoints/ops", params={"tenant": "refinery"}, headers=manager)
    assert removed.status_code == 200
    assert secret("ops").status_code == 404
