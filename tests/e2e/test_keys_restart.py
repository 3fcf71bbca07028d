"""Keys are configuration: intake restarted on a fresh state folder (a container on tmpfs),
keys mounted as files the way the Kubernetes manifests mount them, keeps every promise
made before the restart; production without keys does not start; a rotation keeps old
data readable; a wrong master key is a 503 that records nothing."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import nats
import pytest

from hazardloop.log.reader import read_log
from hazardloop.web.auth import Authenticator, Role
from tests.e2e.conftest import TENANTS, System
from tests.factories import report_body
from tests.waiting import wait_for

NAMED = {"employee_number": "E-1001", "name": "Li Wei", "phone": "+86 139 1234 5678"}
OFFICER = {"roles": [Role.CONFIDENTIALITY_OFFICER]}


def master_keys() -> dict[str, str]:
    return {tenant: base64.b64encode(os.urandom(32)).decode() for tenant in TENANTS}


def mount_keys(system: System, folder: Path, keys: dict[str, str]) -> None:
    """Write the keys as a mounted Secret does (one file per setting) and point the service at them."""
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for name, value in keys.items():
        (folder / name).write_text(value + "\n")
    for name in ("HAZARDLOOP_JWT_SECRET", "HAZARDLOOP_PSEUDONYM_KEY"):
        system.env.pop(name, None)
    system.env |= {"HAZARDLOOP_ENV": "production", "HAZARDLOOP_SECRETS_DIR": str(folder)}


def start_with_mounted_keys(system: System, tmp_path: Path, keys: dict[str, str]) -> Path:
    """Intake in production on its first fresh state, its keys mounted as files; the folder they are in."""
    secrets = tmp_path / "keys"
    mount_keys(system, secrets, keys)
    system.auth = Authenticator(keys["HAZARDLOOP_JWT_SECRET"].encode(), TENANTS)
    restart_on_fresh_state(system, tmp_path, 1)
    return secrets


def restart_on_fresh_state(system: System, tmp_path: Path, round_: int) -> None:
    system.stop("intake")
    system.state = tmp_path / f"state-{round_}"
    system.state.mkdir()
    system.env["HAZARDLOOP_STATE_DIR"] = str(system.state)
    system.start("intake")


def in_log(system: System, event_type: str) -> int:
    """How many events of this type the stream holds: the log, not a projection."""

    async def count() -> int:
        connection = await nats.connect(system.nats_url)
        try:
            subject = f"{system.prefix}.*.*.*.{event_type}"
            return len([event async for event in read_log(connection, system.stream, [subject])])
        finally:
            await connection.close()

    return asyncio.run(count())


@pytest.fixture
def keys() -> dict[str, str]:
    return {
        "HAZARDLOOP_JWT_SECRET": "jwt-secret-2026-0123456789abcdef-0123456789",
        "HAZARDLOOP_PSEUDONYM_KEY": "pseudonym-key-0123456789abcdef",
        "HAZARDLOOP_RECEIPT_KEY": "receipt-key-2026-0123456789abcdef",
        "HAZARDLOOP_FORM_KEY": "form-key-2026-0123456789abcdef",
        "HAZARDLOOP_WEBHOOK_KEY": "webhook-key-0123456789abcdef",
        "HAZARDLOOP_MASTER_KEYS": json.dumps(master_keys()),
    }


def test_after_a_restart_on_fresh_state_every_key_still_opens_what_it_made_and_a_rotation_keeps_it_so(system, tmp_path, keys):
    secrets = start_with_mounted_keys(system, tmp_path, keys)
    intake = system.url("intake")
    reporter, officer = system.headers("E-1001"), system.headers("co-chen", **OFFICER)
    manager = system.headers("safety-manager", roles=[Role.MANAGER])

    first = httpx.post(f"{intake}/reports", json=report_body(reporter=NAMED), headers=reporter)
    assert first.status_code == 201, first.text
    anonymous = report_body(anonymous=True)
    retry = system.headers("E-3003") | {"Idempotency-Key": "anonymous-filing-0001"}
    code = httpx.post(f"{intake}/reports", json=anonymous, headers=retry).json()["receipt_code"]
    link = httpx.get(f"{intake}/places/bay-3/form-link", params={"tenant": "refinery"}, headers=manager).json()["url"]
    assert httpx.get(link).status_code == 200

    restart_on_fresh_state(system, tmp_path, 2)
    again = httpx.post(f"{intake}/reports", json=report_body(reporter=NAMED, description="Harness hook loose"), headers=reporter)
    assert again.status_code == 201, again.text  # the reporter's data key still unwraps
    for filed in (first, again):
        disclosed = httpx.post(
            f"{intake}/reports/{filed.json()['report_id']}/identity", json={"tenant": "refinery", "purpose": "reward payout"},
            headers=officer,
        )
        assert disclosed.status_code == 200 and disclosed.json()["identity"] == NAMED, disclosed.text
    retried = httpx.post(f"{intake}/reports", json=anonymous, headers=retry)
    assert retried.status_code == 200 and retried.json()["receipt_code"] == code
    assert httpx.get(link).status_code == 200  # the printed QR code still opens its form

    # Rotation: a new version of each rotatable key, the old one kept after it.
    rotated = dict(keys)
    for name in ("HAZARDLOOP_JWT_SECRET", "HAZARDLOOP_RECEIPT_KEY", "HAZARDLOOP_FORM_KEY"):
        rotated[name] = f"{name.lower()}-2027-fedcba9876543210,{keys[name]}"
    old_masters, new_masters = json.loads(keys["HAZARDLOOP_MASTER_KEYS"]), master_keys()
    rotated["HAZARDLOOP_MASTER_KEYS"] = json.dumps({t: f"{new_masters[t]},{old_masters[t]}" for t in TENANTS})
    mount_keys(system, secrets, rotated)
    restart_on_fresh_state(system, tmp_path, 3)
    assert httpx.get(f"{intake}/reports", params={"tenant": "refinery"}, headers=manager).status_code == 200  # old tokens hold
    disclosed = httpx.post(
        f"{intake}/reports/{first.json()['report_id']}/identity", json={"tenant": "refinery", "purpose": "reward payout"},
        headers=officer,
    )
    assert disclosed.status_code == 200 and disclosed.json()["identity"] == NAMED
    assert httpx.post(f"{intake}/reports", json=anonymous, headers=retry).json()["receipt_code"] == code
    assert httpx.get(link).status_code == 200
    newcomer = {"employee_number": "E-2002", "name": "Wang Fang"}
    assert httpx.post(f"{intake}/reports", json=report_body(reporter=newcomer), headers=system.headers("E-2002")).status_code == 201
    fresh_link = httpx.get(f"{intake}/places/bay-3/form-link", params={"tenant": "refinery"}, headers=manager).json()["url"]
    assert fresh_link != link and httpx.get(fresh_link).status_code == 200

    # Every data key re-wrapped by the new master keys, then the old form and master keys dropped:
    # codes printed under the old form key stop opening the form; every identity still opens.
    assert "refinery: 1 data keys and 3 text keys re-wrapped" in system.cli("rewrap-keys").stdout
    retired = {"HAZARDLOOP_FORM_KEY": rotated["HAZARDLOOP_FORM_KEY"].split(",")[0], "HAZARDLOOP_MASTER_KEYS": json.dumps(new_masters)}
    mount_keys(system, secrets, rotated | retired)
    restart_on_fresh_state(system, tmp_path, 4)
    assert httpx.get(link).status_code == 404 and httpx.get(fresh_link).status_code == 200
    for filed in (first, again):
        disclosed = httpx.post(
            f"{intake}/reports/{filed.json()['report_id']}/identity", json={"tenant": "refinery", "purpose": "reward payout"},
            headers=officer,
        )
        assert disclosed.status_code == 200 and disclosed.json()["identity"] == NAMED, disclosed.text


def test_a_wrong_master_key_answers_503_and_records_no_disclosure(system, tmp_path, keys):
    secrets = start_with_mounted_keys(system, tmp_path, keys)
    intake = system.url("intake")
    reporter, officer = system.headers("E-1001"), system.headers("co-chen", **OFFICER)
    filed = httpx.post(f"{intake}/reports", json=report_body(reporter=NAMED), headers=reporter)
    assert filed.status_code == 201, filed.text

    mount_keys(system, secrets, keys | {"HAZARDLOOP_MASTER_KEYS": json.dumps(master_keys())})
    restart_on_fresh_state(system, tmp_path, 2)
    disclosed = httpx.post(
        f"{intake}/reports/{filed.json()['report_id']}/identity", json={"tenant": "refinery", "purpose": "reward payout"},
        headers=officer,
    )
    assert disclosed.status_code == 503 and disclosed.headers["Retry-After"], disclosed.text
    returning = httpx.post(f"{intake}/reports", json=report_body(reporter=NAMED, description="Again"), headers=reporter)
    assert returning.status_code == 503 and returning.headers["Retry-After"]
    assert in_log(system, "IdentityDisclosed") == 0
    assert in_log(system, "ReportFiled") == 1  # the refused report was not stored either


def test_production_without_keys_refuses_to_start_and_names_them(system, tmp_path):
    env = {k: v for k, v in system.env.items() if k not in ("HAZARDLOOP_JWT_SECRET", "HAZARDLOOP_PSEUDONYM_KEY")}
    started = subprocess.run(
        [sys.executable, "-m", "hazardloop.tools.cli", "serve", "intake"], env=env | {"HAZARDLOOP_ENV": "production"},
        capture_output=True, text=True, timeout=60,
    )
    assert started.returncode == 2
    for setting in ("HAZARDLOOP_JWT_SECRET", "HAZARDLOOP_PSEUDONYM_KEY", "HAZARDLOOP_RECEIPT_KEY", "HAZARDLOOP_FORM_KEY", "HAZARDLOOP_MASTER_KEYS"):
        assert setting in started.stderr
    assert "Traceback" not in started.stderr
    assert not (tmp_path / "secrets").exists()  # nothing generated in its place


def test_the_access_log_never_holds_a_qr_forms_credential(system):
    system.env["HAZARDLOOP_LOG_LEVEL"] = "INFO"
    system.start("intake")
    manager = system.headers("safety-manager", roles=[Role.MANAGER])
    link = httpx.get(f"{system.url('intake')}/places/bay-3/form-link", params={"tenant": "refinery"}, headers=manager).json()["url"]
    signature = link.split("k=")[1]
    assert httpx.get(link).status_code == 200
    log = system.state / "intake.log"
    wait_for(lambda: "/f/refinery/bay-3?k=[redacted]" in log.read_text())
    assert signature not in log.read_text()
