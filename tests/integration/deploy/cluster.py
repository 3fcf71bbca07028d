"""The 3-node JetStream cluster of ``deploy/nats/``, started on loopback.

The shipped files are copied and only their addresses are rewritten (client, cluster and
monitoring ports, routes, ``store_dir``); accounts, users and permissions stay as shipped.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from hazardloop.log.natsserver import find_binary, free_port

DEPLOY = Path(__file__).resolve().parents[3] / "deploy" / "nats"
PASSWORDS = {
    "NATS_SYSTEM_PASSWORD": "sysPass0test",
    "NATS_ADMIN_PASSWORD": "adminPass0test",
    "NATS_SERVICE_PASSWORD": "servicePass0test",
    "NATS_CONSOLE_PASSWORD": "consolePass0test",
    "NATS_AUDITOR_PASSWORD": "auditorPass0test",
}
USERS = {
    "admin": "NATS_ADMIN_PASSWORD",
    "hazardloop": "NATS_SERVICE_PASSWORD",
    "console": "NATS_CONSOLE_PASSWORD",
    "auditor": "NATS_AUDITOR_PASSWORD",
}


def rewrite(text: str, pattern: str, replacement: str, config: str = "hazardloop.conf") -> str:
    """Rewrite one line the shipped file ``deploy/nats/<config>`` is known to hold; fail loudly
    if it no longer does."""
    rewritten, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    if count != 1:
        raise AssertionError(f"deploy/nats/{config}: expected one match of {pattern!r}, found {count}")
    return rewritten


@dataclass
class Node:
    name: str
    folder: Path
    client_port: int = field(default_factory=free_port)
    cluster_port: int = field(default_factory=free_port)
    monitor_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.folder / "nats.log"

    def url(self, user: str) -> str:
        return f"nats://{user}:{PASSWORDS[USERS[user]]}@127.0.0.1:{self.client_port}"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def healthy(self) -> bool:
        """JetStream-aware health: the node is up and current with its streams and the meta group."""
        try:
            return httpx.get(f"http://127.0.0.1:{self.monitor_port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False


class Cluster:
    def __init__(self, root: Path) -> None:
        self.nodes = [Node(f"nats-{i}", root / f"nats-{i}") for i in (1, 2, 3)]

    def write(self) -> None:
        """Each node gets the shipped files in its own folder, its hazardloop.conf readdressed."""
        shared = (DEPLOY / "hazardloop.conf").read_text()
        for node in self.nodes:
            node.folder.mkdir(parents=True)
            text = rewrite(shared, r"^port: 4222\b", f"host: 127.0.0.1\nport: {node.client_port}")
            text = rewrite(text, r"^http_port: 8222\b", f"http: 127.0.0.1:{node.monitor_port}")
            text = rewrite(text, r"^(\s*)store_dir: /data\b", rf'\1store_dir: "{node.folder / "data"}"')
            text = rewrite(text, r"^(\s*)listen: 0\.0\.0\.0:6222\b", rf"\1listen: 127.0.0.1:{node.cluster_port}")
            for peer in self.nodes:
                text = rewrite(text, rf"nats-route://{peer.name}:6222\b", f"nats-route://127.0.0.1:{peer.cluster_port}")
            (node.folder / "hazardloop.conf").write_text(text)
            shutil.copy(DEPLOY / f"{node.name}.conf", node.folder / f"{node.name}.conf")

    def start(self, node: Node) -> None:
        log = open(node.log, "ab")  # noqa: SIM115 - the child holds it
        node.process = subprocess.Popen(
            [find_binary(), "-c", str(node.folder / f"{node.name}.conf")],
            env={"PATH": "/usr/bin:/bin", **PASSWORDS},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not all(node.healthy() for node in self.nodes if node.alive()):
            for node in self.nodes:
                if node.process is not None and not node.alive() and node.process.returncode != -signal.SIGKILL:
                    raise RuntimeError(f"{node.name} exited: {node.log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"cluster not healthy within {timeout}s")
            time.sleep(0.1)

    def urls(self, user: str) -> str:
        """Every node's URL with the user's credentials, as NATS_URL lists them."""
        return ",".join(node.url(user) for node in self.nodes)

    def node(self, name: str) -> Node:
        return next(node for node in self.nodes if node.name == name)

    def kill(self, node: Node) -> None:
        """SIGKILL: a crash, no shutdown of any kind."""
        assert node.process is not None
        node.process.kill()
        node.process.wait()

    def stop(self) -> None:
        for node in self.nodes:
            if node.alive():
                node.process.terminate()
        for node in self.nodes:
            if node.process is not None:
                try:
                    node.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait()

    def violations(self) -> list[str]:
        """Permission violations every node logged."""
        return [line for node in self.nodes if node.log.exists() for line in node.log.read_text().splitlines() if "Violation" in line]
