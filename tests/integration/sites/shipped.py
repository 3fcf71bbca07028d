"""The shipped hub.conf and site.conf, started on loopback: only addresses and folders are
rewritten; accounts, users, permissions, domains and the leaf link stay as shipped."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from hazardloop.log.natsserver import find_binary, free_port, port_is_open
from tests.integration.deploy.cluster import DEPLOY, rewrite
from tests.integration.sites.test_shipped_configs import ENVIRONMENT
from tests.waiting import wait_for


@dataclass
class Shipped:
    """One server of the shipped files: ``hub.conf`` or ``site.conf`` as ``name``."""

    config: str
    name: str
    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def write(self, leaf_port: int) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        text = (DEPLOY / self.config).read_text()
        text = rewrite(text, r"^port: 4222\b", f"host: 127.0.0.1\nport: {self.port}", self.config)
        text = rewrite(text, r"^http_port: 8222\b", "", self.config)
        text = rewrite(text, r"^(\s*)store_dir: /data\b", rf'\1store_dir: "{self.folder / "data"}"', self.config)
        if self.config == "hub.conf":
            text = rewrite(text, r"^(\s*)port: 7422\b", rf"\1listen: 127.0.0.1:{leaf_port}", self.config)
        path = self.folder / self.config
        path.write_text(text)
        return path

    def start(self, leaf_port: int) -> Shipped:
        config = self.write(leaf_port)
        password = ENVIRONMENT.get(f"NATS_LEAF_{self.name.upper().replace('-', '_')}_PASSWORD", "")
        environment = {"PATH": "/usr/bin:/bin", **ENVIRONMENT, "HAZARDLOOP_SITE": self.name,
                       "NATS_HUB_LEAF_URL": f"nats-leaf://{self.name}:{password}@127.0.0.1:{leaf_port}"}  # fmt: skip
        with open(self.folder / "nats.log", "ab") as log:  # the child holds its own copy
            self.process = subprocess.Popen([find_binary(), "-c", str(config)], env=environment, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        wait_for(lambda: port_is_open(self.port) or self.process.poll() is not None, timeout=10)
        assert self.process.poll() is None, (self.folder / "nats.log").read_text()[-2000:]
        return self

    def url(self, user: str, password: str) -> str:
        return f"nats://{user}:{password}@127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
