"""Several HTTP worker processes of one service on one port, one of them running the projection.

One Python process serves HTTP on one core. ``HAZARDLOOP_HTTP_WORKERS=N`` makes
``hazardloop serve`` start N-1 more processes of the same service; each binds the port
with ``SO_REUSEPORT``, and the kernel spreads new connections over them. Only the first
process (the one started by hand or by the orchestrator) runs the projection and the
background rounds: two runners on one store would share the log's consumer, and a batch
handed to one ahead of the other's lets the checkpoint pass over events. The extra
workers answer commands and read the same store; they stop when the first one stops, or
dies.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

STOP_SECONDS = 10
"""How long a stopping first worker waits for the extra ones before it kills them."""


def shared_socket(host: str, port: int) -> socket.socket:
    """A listening address that other processes may bind too (``SO_REUSEPORT``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def start_extra_workers(service: str, host: str, port: int, count: int) -> list[subprocess.Popen[bytes]]:
    """``count`` more processes serving ``service`` on the same port, without projection."""
    env = os.environ | {"HAZARDLOOP_RUN_PROJECTION": "false"}
    command = [
        sys.executable, "-m", "hazardloop.tools.cli", "serve", service, "--host", host, "--port", str(port),
        "--first-worker", str(os.getpid()),
    ]
    return [subprocess.Popen(command, env=env) for _ in range(count)]


def stop_when_orphaned(first: int, *, every: float = 1.0) -> None:
    """Stop this extra worker (SIGTERM to itself) once the first worker, its parent, is gone:
    one killed outright passes no signal on, and its workers must not serve on alone."""

    def watch() -> None:
        while os.getppid() == first:
            time.sleep(every)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="first-worker-watch", daemon=True).start()


def signal_workers(processes: list[subprocess.Popen[bytes]], sig: int) -> None:
    """Pass a stop signal on to the extra workers, which stop as the first one does."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(sig)


def stop_workers(processes: list[subprocess.Popen[bytes]]) -> None:
    """Ask each to stop as an orchestrator would (SIGTERM), then kill what outlasts ``STOP_SECONDS``."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
