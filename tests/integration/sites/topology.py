"""A group hub and its sites as real nats-server processes on loopback.

The hub listens for leaf nodes; each site is a leaf node with a JetStream domain of its
own. A site's link is cut by restarting its server without the leaf remote (its store
and stream stay), and restored by restarting it with the remote again.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nats
import nats.errors
from nats.aio.client import Client

from hazardloop.log.natsserver import NatsServer, free_port

HUB_DOMAIN = "hub"


class Running:
    """A hub or a site while its nats-server runs."""

    server: NatsServer | None

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


@dataclass
class Hub(Running):
    folder: Path
    leaf_port: int = field(default_factory=free_port)
    server: NatsServer | None = None

    def start(self) -> Hub:
        config = f'server_name: hub\njetstream {{ domain: {HUB_DOMAIN} }}\nleafnodes {{ listen: "127.0.0.1:{self.leaf_port}" }}\n'
        port = self.server.port if self.server else free_port()
        self.server = NatsServer(self.folder / "hub", port=port, config=config).start(log_file=self.folder / "hub.log")
        return self


@dataclass
class Site(Running):
    """One site: its own nats-server, a leaf node of ``hub`` in domain ``name``."""

    name: str
    hub: Hub
    folder: Path
    server: NatsServer | None = None

    def start(self, *, linked: bool = True) -> Site:
        remote = f'leafnodes {{ remotes: [{{ url: "nats-leaf://127.0.0.1:{self.hub.leaf_port}" }}] }}\n' if linked else ""
        config = f"server_name: {self.name}\njetstream {{ domain: {self.name} }}\n{remote}"
        port = self.server.port if self.server else free_port()
        self.server = NatsServer(self.folder / self.name, port=port, config=config).start(log_file=self.folder / f"{self.name}.log")
        return self

    def cut(self) -> None:
        """Restart without the leaf remote: the site goes on alone, the hub loses it."""
        self.stop()
        self.start(linked=False)

    def lose_store(self) -> None:
        """Restart on an empty store, as after a lost disk: the site's stream is gone."""
        self.stop()
        shutil.rmtree(self.folder / self.name)
        self.start()

    def restore(self) -> None:
        self.stop()
        self.start(linked=True)


async def connect(url: str) -> Client:
    """A client that rides out its server's restart (a cut or restored link)."""
    return await nats.connect(url, max_reconnect_attempts=-1, reconnect_time_wait=0.1, connect_timeout=2)


async def disconnect(*clients: Client) -> None:
    """Close each client, bounded. A client whose server restarted under it can have nats-py
    cancel its own wait for the closed socket; that must not escape into the test's teardown
    (a CancelledError there leaves pytest unable to tear the test down and set up the next)."""
    for nc in clients:
        try:
            await asyncio.wait_for(nc.close(), timeout=5)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # this test itself is being cancelled
        except (TimeoutError, nats.errors.Error):
            pass
