"""Intake, verification and notifications as ``hazardloop serve`` processes, for the benches
that measure what people wait for on the real services (as the end-to-end tests start them)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench.intake_http import Service, child_process
from hazardloop.log.natsserver import NatsServer, free_port

SERVICES = ("intake", "verification", "notifications")


@contextmanager
def scratch_broker(name: str) -> Iterator[tuple[str, Path]]:
    """A nats-server of its own in a temporary folder, for a bench run on its own: (its URL,
    the folder for the services' state), both gone when the block ends."""
    with tempfile.TemporaryDirectory(prefix=f"hazardloop-{name}-bench-") as tmp:
        server = NatsServer(Path(tmp) / "nats").start(log_file=Path(tmp) / "nats-server.log")
        try:
            yield server.url, Path(tmp) / "services"
        finally:
            server.stop()


def environment(nats_url: str, state: Path, stream: str, prefix: str, ports: dict[str, int]) -> dict[str, str]:
    """One state folder (so one key ring) and one stream of their own, SQLite stores in it."""
    inherited = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")}
    return {
        **inherited,
        "NATS_URL": nats_url,
        "HAZARDLOOP_STATE_DIR": str(state),
        "HAZARDLOOP_STREAM_NAME": stream,
        "HAZARDLOOP_SUBJECT_PREFIX": prefix,
        "HAZARDLOOP_LOG_LEVEL": "WARNING",
        **{f"HAZARDLOOP_{s.upper()}_PORT": str(p) for s, p in ports.items()},
        **{f"HAZARDLOOP_{s.upper()}_URL": f"http://127.0.0.1:{p}" for s, p in ports.items()},
    }


@contextmanager
def services(nats_url: str, state: Path, stream: str, prefix: str) -> Iterator[dict[str, Service]]:
    """The three services running until the block ends (each stopped by SIGTERM)."""
    state.mkdir(parents=True, exist_ok=True)
    ports = {service: free_port() for service in SERVICES}
    env = environment(nats_url, state, stream, prefix, ports)
    executable = str(Path(sys.executable).with_name("hazardloop"))
    with ExitStack() as stack:
        running = {}
        for service in SERVICES:
            process = stack.enter_context(child_process([executable, "serve", service], env, state / f"{service}.log"))
            running[service] = Service(f"http://127.0.0.1:{ports[service]}", process.pid)
        yield running


def rebuild_stores(nats_url: str, state: Path, stream: str, prefix: str, *, timeout: float = 900.0) -> None:
    """Rebuild the three services' stores from the log with ``hazardloop replay`` (stopped
    services, side by side): how a store that has to hold a large log gets filled fast."""
    env = environment(nats_url, state, stream, prefix, {})
    executable = str(Path(sys.executable).with_name("hazardloop"))
    running = [
        (service, subprocess.Popen([executable, "replay", service, "--database-url", f"sqlite:///{state / f'{service}.db'}"],
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
        for service in SERVICES
    ]
    failed = []
    for service, process in running:
        output, _ = process.communicate(timeout=timeout)
        if process.returncode != 0:
            failed.append(f"{service}: {output.decode()[-2000:]}")
    if failed:
        raise RuntimeError("replay failed: " + "; ".join(failed))
