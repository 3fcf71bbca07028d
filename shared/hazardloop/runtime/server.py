"""Uvicorn's server, made to hear a stop request while its application is still starting up.

Uvicorn answers SIGTERM and SIGINT by asking its main loop to end, and that loop runs only
once the application has started: a service still waiting for its broker would not hear
``systemctl stop``, a pod's termination or Ctrl-C, and would hang until killed.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from types import FrameType

import uvicorn


class Server(uvicorn.Server):
    """Sets ``stop_requested`` on every stop signal, for a start-up that waits to give up on."""

    def __init__(
        self, config: uvicorn.Config, stop_requested: asyncio.Event, *, pass_on: Callable[[int], None] | None = None
    ) -> None:
        """``pass_on`` gets each stop signal too (the extra HTTP workers': uvicorn raises a
        SIGTERM again once it has stopped, which ends the process before any cleanup)."""
        super().__init__(config)
        self.stop_requested = stop_requested
        self.pass_on = pass_on
        self.loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self.pass_on is not None:
            self.pass_on(sig)
        if self.loop is not None:
            # A signal handler runs between any two steps of the loop: hand the news to the loop
            # (which also wakes it) rather than touch its waiters from here.
            self.loop.call_soon_threadsafe(self.stop_requested.set)
