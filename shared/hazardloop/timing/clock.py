"""Where services read the time: the system clock in production, a hand-set one in tests.

Deadlines and SLA clocks run for days; tests move a clock instead of sleeping.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
