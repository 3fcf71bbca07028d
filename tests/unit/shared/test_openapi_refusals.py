"""Each service's OpenAPI document lists the refusals a client must handle, with their bodies.

The fuzzing in tests/e2e meets the refusals a healthy system answers; these are read from
the document itself, including the 503 only an outage produces.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hazardloop.tools.registry import SERVICES, app_module

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}


def document(service: str, state: Path) -> dict:
    settings = app_module(service).Settings(
        state_dir=str(state), nats_url="nats://127.0.0.1:1", jwt_secret="openapi-only", pseudonym_key="openapi-only"
    )
    return app_module(service).build(settings).openapi()


def operations(doc: dict):
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", method, operation


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_declares_its_refusals_with_the_error_body(service, tmp_path):
    doc = document(service, tmp_path)
    assert doc["components"]["schemas"]["ErrorBody"]["required"] == ["detail"]
    for name, method, operation in operations(doc):
        answers = operation["responses"]
        expected = set()
        if operation.get("security"):
            expected |= {"401", "403"}
            assert "WWW-Authenticate" in answers["401"]["headers"], name
        if method != "get":
            expected |= {"404", "409", "503"}
            assert "Retry-After" in answers["503"]["headers"], name
        if "requestBody" in operation:
            expected |= {"400", "413", "422"}
        assert expected <= set(answers), f"{name} leaves out {sorted(expected - set(answers))}"
        for status in expected:
            assert answers[status]["content"] == {"application/json": {"schema": ERROR_BODY}}, (name, status)


@pytest.mark.parametrize("service", SERVICES)
def test_the_asyncapi_yaml_is_declared_as_yaml(service, tmp_path):
    answers = document(service, tmp_path)["paths"]["/asyncapi.yaml"]["get"]["responses"]
    assert list(answers["200"]["content"]) == ["application/yaml"]
