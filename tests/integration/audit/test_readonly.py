"""The auditor's broker account, as deploy/nats/hazardloop.conf defines it, can run every
read-only audit command and cannot append anything, seals included."""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from pathlib import Path

import nats
import pytest
from typer.testing import CliRunner

from hazardloop.log.eventstore import EventStore, EventStoreUnavailable, Subjects
from hazardloop.log.natsserver import find_binary, free_port, port_is_open
from hazardloop.tools.cli import cli
from tests.factories import report_filed, verified
from tests.integration.audit.conftest import append_all

DEPLOYED = Path(__file__).parents[3] / "deploy" / "nats" / "hazardloop.conf"


@pytest.fixture
def secured_broker(tmp_path: Path):
    """A nats-server with the deployed service, console and auditor permissions (one node, no cluster)."""
    permissions = re.search(r"^SERVICE_PERMISSIONS = \{.*?(?=^accounts \{)", DEPLOYED.read_text(), re.S | re.M).group(0)
    port = free_port()
    config = tmp_path / "secured.conf"
    config.write_text(f"""
listen: 127.0.0.1:{port}
jetstream {{ store_dir: "{tmp_path / 'js'}" }}
{permissions}
accounts {{
  HAZARDLOOP {{
    jetstream: enabled
    users: [
      {{ user: hazardloop, password: servicepass, permissions: $SERVICE_PERMISSIONS }}
      {{ user: console, password: consolepass, permissions: $CONSOLE_PERMISSIONS }}
      {{ user: auditor, password: auditorpass, permissions: $AUDITOR_PERMISSIONS }}
    ]
  }}
}}
""")
    process = subprocess.Popen([find_binary(), "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not port_is_open(port):
        assert process.poll() is None and time.monotonic() < deadline, "the secured nats-server did not start"
        time.sleep(0.05)
    try:
        yield f"nats://hazardloop:servicepass@127.0.0.1:{port}", f"nats://auditor:auditorpass@127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def _fill(url: str) -> int:
    connection = await nats.connect(url)
    try:
        store = EventStore(connection, subjects=Subjects("hazard"))
        await store.ensure_stream()
        filed = report_filed()
        await append_all(store, [filed, verified(filed, "not_confirmed", None)])
        return await store.last_sequence()
    finally:
        await connection.close()


async def _ignore(_: Exception) -> None:
    """The permission violation arrives as an asynchronous error; the append's own failure is what counts."""


async def _try_to_append(url: str) -> None:
    connection = await nats.connect(url, error_cb=_ignore)
    try:
        store = EventStore(connection, subjects=Subjects("hazard"), timeout=1.0)
        await store.append(report_filed(), expected_version=0)
    finally:
        await connection.close()


def test_the_auditor_reads_everything_and_appends_nothing(secured_broker, monkeypatch, tmp_path):
    service, auditor = secured_broker
    last = asyncio.run(_fill(service))
    monkeypatch.delenv("NATS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def audit(*args: str):
        return runner.invoke(cli, ["audit", *args, "--nats-url", auditor], env={"COLUMNS": "200"})

    assert (result := audit("verify")).exit_code == 0 and "OK" in result.output, result.output
    assert (result := audit("export", str(tmp_path / "archive"))).exit_code == 0, result.output
    assert (result := audit("replay", "--until-sequence", str(last), "--into", str(tmp_path / "replayed"))).exit_code == 0, result.output
    assert "through sequence" in result.output
    result = audit("reconcile")  # no rewards service ran here: the verified report has no decision
    assert result.exit_code == 1 and "verified, no reward decision" in result.output, result.output
    assert (result := audit("ledger", "--tenant", "refinery")).exit_code == 0, result.output
    assert (result := audit("seal-status")).exit_code == 0 and "2 events not sealed yet" in result.output, result.output

    with pytest.raises(EventStoreUnavailable):
        asyncio.run(_try_to_append(auditor))
    assert audit("seal").exit_code != 0
    assert asyncio.run(_last(service)) == last


async def _last(url: str) -> int:
    connection = await nats.connect(url)
    try:
        return await EventStore(connection).last_sequence()
    finally:
        await connection.close()
