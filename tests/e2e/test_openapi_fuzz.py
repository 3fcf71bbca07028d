"""Schemathesis against each live service's own OpenAPI document: whatever a client sends,
never a 5xx, and every answer is one the document declares, with the body and headers it
declares. Once with a group-wide token holding every role, once with a reporter's, once
with none.

One worker, so Hypothesis runs in one thread: with two, both threads parse Python source
(Hypothesis reads lambdas and modules with ``ast``), and CPython 3.11 keeps the AST
constructor's recursion depth in state all threads share, so a thread switch inside a
parse (a finalizer run by the collector) fails it with "AST constructor recursion depth
mismatch". Deterministic generation makes every run the same run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hazardloop.tools.registry import SERVICES
from hazardloop.web.auth import ALL_TENANTS, Role

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)


def fuzz(system, service: str, token: str | None, *, max_examples: int, phases: str) -> subprocess.CompletedProcess[str]:
    credentials = ["--header", f"Authorization: Bearer {token}"] if token else []
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("st")), "run", f"{system.url(service)}/openapi.json",
            "--checks", CHECKS,
            *credentials,
            "--max-examples", str(max_examples),
            "--phases", phases,
            "--generation-deterministic",
            "--workers", "1",
            "--request-timeout", "30",
            "--no-color",
        ],
        capture_output=True, text=True, timeout=300, check=False, cwd=system.state,
    )


@pytest.mark.parametrize("service", SERVICES)
def test_every_answer_is_declared_and_none_is_a_server_error(system, service):
    system.start(service)
    headquarters = system.auth.issue("fuzzer", [ALL_TENANTS], list(Role))
    everything = fuzz(system, service, headquarters, max_examples=10, phases="examples,coverage,fuzzing")
    assert everything.returncode == 0, everything.stdout[-20000:] + everything.stderr[-5000:]
    reporter = system.auth.issue("fuzzing-reporter", ["refinery"], [Role.REPORTER])
    own = fuzz(system, service, reporter, max_examples=8, phases="fuzzing")
    assert own.returncode == 0, own.stdout[-20000:] + own.stderr[-5000:]
    anonymous = fuzz(system, service, None, max_examples=5, phases="fuzzing")
    assert anonymous.returncode == 0, anonymous.stdout[-20000:] + anonymous.stderr[-5000:]
