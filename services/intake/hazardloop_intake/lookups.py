"""How many wrong receipt codes intake takes before it stops listening for a while.

A code has 125 random bits, so guessing one is hopeless anyway; the limit keeps it so
and keeps a guesser from loading the service. Wrong codes count per client address and
over all addresses together (a guesser with many addresses); right ones never count, so
a reporter who typed their code right is never held up by others' mistakes past the
overall limit's window.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import TypeVar

from fastapi import HTTPException, Request

T = TypeVar("T")


class TooManyLookups(Exception):
    """Too many wrong codes lately: ask again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many wrong receipt codes; retry after {retry_after} s")
        self.retry_after = retry_after


class LookupLimiter:
    """Sliding windows of wrong codes, per address and overall (kept in this process)."""

    def __init__(self, *, per_address: int, overall: int, window_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_address, self.overall, self.window = per_address, overall, window_seconds
        self._clock = clock
        self._wrong: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()

    def check(self, address: str) -> None:
        """Raise ``TooManyLookups`` if this address, or everyone together, guessed too often lately."""
        now = self._clock()
        self._forget(now)
        mine = self._wrong.get(address, deque())
        for window, limit in ((mine, self.per_address), (self._all, self.overall)):
            if len(window) >= limit:
                raise TooManyLookups(max(1, math.ceil(window[len(window) - limit] + self.window - now)))

    def wrong(self, address: str) -> None:
        now = self._clock()
        self._wrong.setdefault(address, deque()).append(now)
        self._all.append(now)

    def _forget(self, now: float) -> None:
        horizon = now - self.window
        while self._all and self._all[0] <= horizon:
            self._all.popleft()
        for address in [a for a, times in self._wrong.items() if not times or times[-1] <= horizon]:
            del self._wrong[address]
        for times in self._wrong.values():
            while times and times[0] <= horizon:
                times.popleft()


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def checked_code(request: Request, find: Callable[[], T | None]) -> T | None:
    """``find()``'s report for a receipt code an API caller sent, counted against guessing:
    a 429 with Retry-After while this address or everyone guessed too often lately."""
    limiter: LookupLimiter = request.app.state.lookups
    address = client_address(request)
    try:
        limiter.check(address)
    except TooManyLookups as busy:
        raise HTTPException(429, detail=str(busy), headers={"Retry-After": str(busy.retry_after)}) from None
    found = find()
    if found is None:
        limiter.wrong(address)
    return found
