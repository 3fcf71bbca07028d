"""An auditor's day on a scripted run: the demo through the real services, a snapshot of
every store mid-run, more work, then every `hazardloop audit` command from the log alone."""

from __future__ import annotations

import asyncio
import csv
import sqlite3
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import nats
import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, text

from hazardloop.audit.replay import checkpoint_of
from hazardloop.log.natsserver import NatsServer
from hazardloop.runtime.settings import CommonSettings
from hazardloop.tools import demo
from hazardloop.tools.registry import SERVICES, projection_factory
from hazardloop.web.auth import Role
from tests.e2e.conftest import TENANTS, System
from tests.factories import report_body
from tests.waiting import wait_for


def log_subjects(system: System) -> list[str]:
    async def read() -> list[str]:
        connection = await nats.connect(system.nats_url)
        try:
            js = connection.jetstream()
            last = (await js.stream_info(system.stream)).state.last_seq
            return [(await js.get_msg(system.stream, seq)).subject for seq in range(1, last + 1)]
        finally:
            await connection.close()

    return asyncio.run(read())


def settle(system: System) -> int:
    """Wait until every inbox message's delivery is recorded and every store has applied the
    last event of its types; returns the log's length.

    Recording a delivery appends to the log after the store has caught up, so this repeats
    until the log stops growing.
    """
    while True:
        length = caught_up(system)
        inbox = create_engine(system.database_url("notifications"))
        wait_for(lambda: not pending_in_inbox(inbox), timeout=30)
        inbox.dispose()
        if len(log_subjects(system)) == length:
            return length


def pending_in_inbox(engine) -> int:
    with engine.connect() as db:
        return db.execute(text("SELECT count(*) FROM notification_inbox WHERE status = 'pending'")).scalar_one()


def caught_up(system: System) -> int:
    """Wait until every store has applied the last event of its types; returns the log's length.

    A store may be further on by then (notifications records deliveries meanwhile):
    ``settle`` reads again until the log stops growing."""
    subjects = log_subjects(system)
    for service in SERVICES:
        kinds = set(projection_factory(service)(None).event_types)
        expected = max((seq for seq, subject in enumerate(subjects, start=1) if subject.rsplit(".", 1)[1] in kinds), default=0)
        engine = create_engine(system.database_url(service))
        wait_for(lambda e=engine, x=expected: checkpoint_of(e) >= x, timeout=30)
        engine.dispose()
    return len(subjects)


def snapshot(system: System, folder: Path) -> None:
    folder.mkdir()
    for service in SERVICES:
        with sqlite3.connect(system.state / f"{service}.db") as source, sqlite3.connect(folder / f"{service}.db") as copy:
            source.backup(copy)


@pytest.fixture(scope="module")
def run(nats_url: str, tmp_path_factory: pytest.TempPathFactory):
    """The demo, a snapshot (time and sequence noted), one more report, then everything stopped."""
    state = tmp_path_factory.mktemp("audit-run")
    token = uuid.uuid4().hex[:10]
    system = System(nats_url, state, f"HL_{token.upper()}", f"t{token}")
    system.catalogue = lambda: None  # the demo brings its own catalogue
    try:
        system.start(*SERVICES)
        settings = CommonSettings(state_dir=state, jwt_secret=system.env["HAZARDLOOP_JWT_SECRET"], tenants=TENANTS)
        demo.seed({s: system.url(s) for s in SERVICES}, settings)
        snapped_sequence = settle(system)
        snapshot(system, state / "snapshot")
        snapped_at = datetime.now(UTC)
        later = httpx.post(f"{system.url('intake')}/reports", json=report_body(place_id="tank-farm", spot_detail="Valve V-12"),
                           headers=system.headers("emp-77"))
        assert later.status_code == 201, later.text
        report_id = later.json()["report_id"]
        wait_for(lambda: httpx.post(f"{system.url('verification')}/reports/{report_id}/acceptance", json={},
                                    headers=system.headers("safety-li", roles=[Role.VERIFIER])).status_code == 201)
        settle(system)
    finally:
        system.stop()
    return system, snapped_at, snapped_sequence


def audit(system: System, *args: str, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hazardloop.tools.cli", "audit", *args], env=(env or system.env) | {"COLUMNS": "250"},
        capture_output=True, text=True, timeout=120, cwd=system.state,
    )


def test_a_point_in_time_replay_equals_the_snapshot_taken_then(run):
    system, snapped_at, snapped_sequence = run
    result = audit(system, "replay", "--as-of", snapped_at.isoformat(), "--against", str(system.state / "snapshot"),
                   "--into", str(system.state / "as-of"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("identical") == len(SERVICES) and f"log through sequence {snapped_sequence:,}" in result.stdout
    later = audit(system, "replay", "--against", str(system.state / "snapshot"))
    assert later.returncode == 1 and "differences" in later.stdout  # the snapshot is not the present


def test_the_live_stores_equal_a_replay_of_the_log(run):
    system, _, _ = run
    result = audit(system, "replay")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("identical") == len(SERVICES) and "events/s" in result.stdout


def test_verify_seal_export_and_replay_the_archive_offline(run, tmp_path):
    system, _, _ = run
    unsealed = audit(system, "verify")
    assert unsealed.returncode == 0 and "OK" in unsealed.stdout, unsealed.stdout
    sealed = audit(system, "seal")
    assert sealed.returncode == 0 and "sealed 1.." in sealed.stdout, sealed.stdout + sealed.stderr
    verified = audit(system, "verify")
    assert verified.returncode == 0 and "covering 1.." in verified.stdout
    exported = audit(system, "export", str(tmp_path / "archive"))
    assert exported.returncode == 0 and "manifest sha256" in exported.stdout, exported.stdout + exported.stderr
    offline = audit(system, "verify", "--archive", str(tmp_path / "archive"))
    assert offline.returncode == 0 and "OK" in offline.stdout
    replayed = audit(system, "replay", "--archive", str(tmp_path / "archive"))
    assert replayed.returncode == 0 and replayed.stdout.count("identical") == len(SERVICES), replayed.stdout + replayed.stderr

    restore = NatsServer(tmp_path / "restore").start()
    try:
        imported = audit(system, "import", str(tmp_path / "archive"), "--nats-url", restore.url, "--stream", "RESTORED")
        assert imported.returncode == 0, imported.stdout + imported.stderr
        again = audit(system, "import", str(tmp_path / "archive"), "--nats-url", restore.url, "--stream", "RESTORED")
        assert again.returncode == 1 and "already holds" in again.stdout
        from_import = audit(system, "replay", "--nats-url", restore.url, "--stream", "RESTORED", "--against", str(system.state))
        assert from_import.returncode == 0 and from_import.stdout.count("identical") == len(SERVICES), from_import.stdout + from_import.stderr
    finally:
        restore.stop()


def test_the_demo_ledger_row_by_row(run, tmp_path):
    system, _, _ = run
    year = datetime.now(ZoneInfo("Asia/Shanghai")).year
    result = audit(system, "ledger", "--tenant", "refinery", "--period", str(year), "--lang", "en",
                   "--csv", str(tmp_path / "ledger.csv"), "--xlsx", str(tmp_path / "ledger.xlsx"))
    assert result.returncode == 0, result.stdout + result.stderr
    rows = list(csv.DictReader((tmp_path / "ledger.csv").open(encoding="utf-8-sig")))
    assert len(rows) == 6
    detector, hot_work, drill, handrail, harness, later = rows
    assert (detector["Site"], detector["Area"], detector["Spot"], detector["Equipment"]) == ("炼油北区", "酸性水汽提装置", "Detector AT-2031", "AT-2031")
    assert detector["Situation"].startswith("Hydrogen sulphide detector")
    assert (detector["Category"], detector["Outcome"], detector["Grade"], detector["Risk colour"]) == ("Unsafe equipment or facilities", "Confirmed hazard", "Major hazard", "Red")
    assert (detector["Status"], detector["Rectification owner"]) == ("Closed", "maint-chen")
    assert detector["Measures"] == "Detector replaced and recalibrated; bypass removed; alarm tested."
    assert detector["Deadline (Asia/Shanghai)"] and detector["Rectified at (Asia/Shanghai)"] and detector["Closed at (Asia/Shanghai)"]
    assert (detector["Reward (yuan)"], detector["Reward status"]) == ("3600.00", "Paid")  # 2000 x150% x120%
    assert detector["Reward paid at (Asia/Shanghai)"] and detector["Payment reference"] and detector["Reporter (pseudonym)"].startswith("p-")
    assert (hot_work["Grade"], hot_work["Status"], hot_work["Rectification owner"]) == ("General hazard", "Closed", "")
    assert hot_work["Measures"] == "Permit issued, fire watch posted, contractor briefed."
    assert hot_work["Rectified at (Asia/Shanghai)"] == hot_work["Closed at (Asia/Shanghai)"] != "" and hot_work["Deadline (Asia/Shanghai)"] == ""
    assert (hot_work["Reward (yuan)"], hot_work["Reward status"]) == ("100.00", "Paid")
    assert (drill["Outcome"], drill["Grade"], drill["Status"], drill["Measures"]) == ("Valid, not a hazard", "", "Closed", "")
    assert (drill["Reward (yuan)"], drill["Reward status"]) == ("20.00", "Paid")
    assert (handrail["Grade"], handrail["Status"], handrail["Rectification owner"], handrail["Reward status"]) == ("Larger hazard", "Being rectified", "maint-chen", "Awaiting approval")
    assert (harness["Status"], harness["Situation"]) == ("Filed", "两名承包商在3号管廊高处作业未系安全带。")
    assert (later["Status"], later["Outcome"], later["Reward (yuan)"], later["Closed at (Asia/Shanghai)"]) == ("Filed", "", "", "")
    assert detector["Reporter (pseudonym)"] == hot_work["Reporter (pseudonym)"] == drill["Reporter (pseudonym)"] != later["Reporter (pseudonym)"]
    sheet = load_workbook(tmp_path / "ledger.xlsx")["Ledger"]
    assert sheet.max_row == 7 and sheet["A2"].value == detector["Report"]
    assert float(sheet.cell(2, 19).value) == 3600.0 and isinstance(sheet.cell(2, 2).value, datetime)

    chinese = audit(system, "ledger", "--tenant", "refinery", "--period", str(year), "--csv", str(tmp_path / "账.csv"), "--xlsx", str(tmp_path / "账.xlsx"))
    assert chinese.returncode == 0, chinese.stdout + chinese.stderr
    first = next(csv.DictReader((tmp_path / "账.csv").open(encoding="utf-8-sig")))
    assert (first["隐患等级"], first["状态"], first["奖励金额（元）"], first["奖励状态"]) == ("重大隐患", "已闭环", "3600.00", "已发放")


def test_reconcile_finds_nothing_on_the_demo_run(run):
    system, _, _ = run
    result = audit(system, "reconcile")
    assert result.returncode == 0 and "no exceptions" in result.stdout, result.stdout + result.stderr
