"""Schemathesis against the live intake's own OpenAPI document: whatever a client sends, never a 5xx."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hazardloop.auth import Role

ROLES = [Role.REPORTER, Role.VERIFIER, Role.MANAGER, Role.CONFIDENTIALITY_OFFICER, Role.AUDITOR]


def test_no_request_makes_intake_answer_5xx(system):
    system.start("intake")
    token = system.auth.issue("fuzzer", ["refinery"], ROLES)
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("st")), "run", f"{system.url('intake')}/openapi.json",
            "--checks", "not_a_server_error",
            "--header", f"Authorization: Bearer {token}",
            "--max-examples", "40",
            "--seed", "20261122",
            "--workers", "2",
            "--request-timeout", "30",
            "--no-color",
            "--generation-database", "none",
        ],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
