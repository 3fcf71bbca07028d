"""How many wrong receipt codes intake takes before it stops listening for a while.

A code has 125 random bits, so guessing one is hopeless anyway; the limit keeps it so
and keeps a guesser from loading the service. Distinct wrong codes count, per client
address and over all addresses together (a guesser with many addresses): a guesser must
try ever new codes, while the same code asked again (an app polling for a report just
filed, a reporter pressing again) costs nothing more. Right codes never count.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import TypeVar

from fastapi import HTTPException, Request

from hazardloop.privacy.receipts import receipt_digest

T = TypeVar("T")


class TooManyLookups(Exception):
    """Too many wrong codes lately: ask again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many wrong receipt codes; retry after {retry_after} s")
        self.retry_after = retry_after


class LookupLimiter:
    """Sliding windows of distinct wrong codes (by digest, first seen when), per address and
    overall, kept in this process."""

    def __init__(self, *, per_address: int, overall: int, window_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_address, self.overall, self.window = per_address, overall, window_seconds
        self._clock = clock
        self._wrong: dict[str, dict[str, float]] = {}
        self._all: dict[str, float] = {}

    def check(self, address: str) -> None:
        """Raise ``TooManyLookups`` if this address, or everyone together, guessed too often lately."""
        now = self._clock()
        self._forget(now)
        for seen, limit in ((self._wrong.get(address, {}), self.per_address), (self._all, self.overall)):
            if len(seen) >= limit:
                first_to_expire = list(seen.values())[len(seen) - limit]
                raise TooManyLookups(max(1, math.ceil(first_to_expire + self.window - now)))

    def wrong(self, address: str, code: str) -> None:
        now = self._clock()
        digest = receipt_digest(code)  # as typed in any case, with or without dashes: one code
        self._wrong.setdefault(address, {}).setdefault(digest, now)
        self._all.setdefault(digest, now)

    def _forget(self, now: float) -> None:
        horizon = now - self.window
        for seen in (self._all, *self._wrong.values()):
            for digest in [d for d, at in seen.items() if at <= horizon]:
                del seen[digest]
        for address in [a for a, seen in self._wrong.items() if not seen]:
            del self._wrong[address]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def checked_code(request: Request, code: str, find: Callable[[], T | None]) -> T | None:
    """``find()``'s report for a receipt code an API caller sent, counted against guessing:
    a 429 with Retry-After while this address or everyone guessed too often lately."""
    limiter: LookupLimiter = request.app.state.lookups
    address = client_address(request)
    try:
        limiter.check(address)
    except TooManyLookups as busy:
        raise HTTPException(429, detail=str(busy), headers={"Retry-After": str(busy.retry_after)}) from None
    found = await asyncio.to_thread(find)
    if found is None:
        limiter.wrong(address, code)
    return found
