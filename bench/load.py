"""A closed-loop load generator shared by the HTTP run and its broker baseline.

Both sides go through the same loop, so the difference between them is the system
under test and not the harness.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from time import perf_counter

from bench.stats import percentile, rate

Send = Callable[[int, int], Awaitable[bool]]
"""Issue request number ``ticket`` from client ``worker``; True when it succeeded."""


@dataclass
class LoadResult:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    """Seconds per successful request."""

    @property
    def per_second(self) -> float:
        return rate(self.requests - self.errors, self.seconds)

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 0.50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 0.99) * 1000

    def summary(self) -> dict[str, float | int]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "per_second": round(self.per_second, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
        }


async def drive(send: Send, *, workers: int, max_requests: int, max_seconds: float, first: int = 0) -> LoadResult:
    """``workers`` clients each send, await, repeat: until ``max_requests`` or time is up."""
    result = LoadResult()
    tickets = iter(range(first, first + max_requests))
    started = perf_counter()
    deadline = started + max_seconds

    async def client(worker: int) -> None:
        for ticket in tickets:
            if perf_counter() >= deadline:
                return
            sent = perf_counter()
            try:
                ok = await send(worker, ticket)
            except Exception:  # noqa: BLE001 - an error is a data point, not the end of the run
                ok = False
            result.requests += 1
            if ok:
                result.latencies.append(perf_counter() - sent)
            else:
                result.errors += 1

    await asyncio.gather(*(client(worker) for worker in range(workers)))
    result.seconds = perf_counter() - started
    return result
