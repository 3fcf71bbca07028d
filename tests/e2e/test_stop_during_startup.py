"""A service asked to stop while it still waits for its broker stops; one left waiting starts
once the broker comes up.

A service waits for its broker without end at startup (the broker may simply come up later),
so an orchestrator's SIGTERM or an operator's Ctrl-C must end that wait, not hang until SIGKILL.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from hazardloop.log.natsserver import NatsServer, free_port
from tests.e2e.conftest import System
from tests.waiting import wait_for


@pytest.fixture
def brokerless(tmp_path: Path, stream_names: tuple[str, str]) -> Iterator[System]:
    """The services pointed at a free port where no broker listens (yet)."""
    stream, prefix = stream_names
    system = System(f"nats://127.0.0.1:{free_port()}", tmp_path, stream, prefix)
    system.env["HAZARDLOOP_LOG_LEVEL"] = "INFO"  # startup's progress shows in the log
    try:
        yield system
    finally:
        system.stop()


def starting(system: System, service: str) -> None:
    """Until the service's log shows its startup under way."""
    wait_for(lambda: "Waiting for application startup." in system.log(service).read_text(), timeout=30)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_service_asked_to_stop_before_its_broker_answers_stops_promptly(brokerless, stop):
    brokerless.launch("intake")
    intake = brokerless.processes["intake"]
    starting(brokerless, "intake")
    intake.send_signal(stop)
    status = intake.wait(timeout=10)
    assert status in (0, -stop)  # stopped as asked (uvicorn passes SIGTERM on once stopped), not failed
    assert "intake stopped before its broker answered" in brokerless.log("intake").read_text()


def test_a_service_started_before_its_broker_becomes_ready_once_the_broker_is_up(brokerless, tmp_path):
    brokerless.launch("intake")
    starting(brokerless, "intake")
    port = int(brokerless.nats_url.rsplit(":", 1)[1])
    broker = NatsServer(tmp_path / "nats", port=port).start()
    try:
        brokerless.wait_ready("intake")
        brokerless.stop("intake")  # and a started service still stops as before
    finally:
        broker.stop()
    assert "stopped before its broker answered" not in brokerless.log("intake").read_text()
