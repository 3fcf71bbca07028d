"""Batch pulls from a JetStream consumer through one callback subscription.

nats-py's ``fetch()`` awaits every message under its own ``wait_for`` (a task per
message); pulling into a callback avoids that and reads about four times faster.
Pulling, unlike pushing, never runs ahead of the reader: the next batch is asked
for only when the previous one has been taken.
"""

from __future__ import annotations

import asyncio
import json

from nats.aio.client import Client
from nats.aio.msg import Msg


class BatchPuller:
    """Asks a consumer for ``batch`` messages at a time and collects them."""

    def __init__(self, nc: Client, stream: str, consumer: str) -> None:
        self._nc = nc
        self._api = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        self._inbox = nc.new_inbox()
        self._subscription = None
        self._wanted = 0
        self._batch: list[Msg] = []
        self._filled: asyncio.Future[list[Msg]] | None = None

    async def __aenter__(self) -> BatchPuller:
        self._subscription = await self._nc.subscribe(self._inbox, cb=self._on_message)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._subscription is not None:
            await self._subscription.unsubscribe()

    async def request(self, batch: int, expires: float) -> asyncio.Future[list[Msg]]:
        """Ask for up to ``batch`` messages; the future settles when they came or time ran out."""
        if self._filled is not None and not self._filled.done():
            raise RuntimeError("one pull at a time")
        self._wanted, self._batch = batch, []
        self._filled = asyncio.get_running_loop().create_future()
        body = json.dumps({"batch": batch, "expires": int(expires * 1e9)}).encode()
        await self._nc.publish(self._api, body, reply=self._inbox)
        return self._filled

    async def _on_message(self, msg: Msg) -> None:
        future = self._filled
        if future is None or future.done():
            return
        if not msg.data and msg.headers and "Status" in msg.headers:  # 404/408/409: the pull ended short
            future.set_result(self._batch)
            return
        self._batch.append(msg)
        if len(self._batch) >= self._wanted:
            future.set_result(self._batch)
