"""Seals on a schedule: a service's background round seals the log every N minutes or
every M events, whichever comes first, so it is never left unsealed until an operator
thinks of ``hazardloop audit seal``.

Each round first reads the seal status (a few broker calls, no read of the log) and
seals only when events wait: seal events are not counted, so a seal never calls for
the next. Seals are guarded by the seal chain's last sequence, so a second sealer (an
operator's command, a second replica) is harmless: whoever loses the race finds the
range sealed. A range holding damage is never sealed; the round says so in the log and
tries again only after a pause, while the seal's age keeps growing for the alert.
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from nats.aio.client import Client

from hazardloop.audit.seal import UnsealableError, seal_log
from hazardloop.audit.seal_status import SealStatus, seal_status
from hazardloop.events import MAX_SEAL_RANGE
from hazardloop.log.eventstore import ConcurrencyError, EventStore
from hazardloop.runtime.rounds import every
from hazardloop.runtime.settings import CommonSettings
from hazardloop.timing.clock import Clock

if TYPE_CHECKING:
    from hazardloop.runtime.service import Runtime

log = logging.getLogger("hazardloop.audit.seal_schedule")

ROUND_SECONDS = 30.0
"""Between two looks at the seal status: how late a trigger may be noticed."""
PAUSE_AFTER_DAMAGE = timedelta(minutes=15)
"""Damage stays in the log: trying again at once would only read the same range again."""


class Outcome(enum.Enum):
    """What one round did."""

    NOTHING_DUE = "nothing due"
    SEALED = "sealed"
    SEALED_ELSEWHERE = "sealed by another sealer"
    REFUSED = "refused: damage in the range"
    PAUSED = "paused after damage"


class SealSchedule:
    """Seals the log when either trigger fires; remembers only a pause after damage."""

    def __init__(
        self, clock: Clock, *, every_minutes: int, every_events: int, interval: float = ROUND_SECONDS, chunk: int = MAX_SEAL_RANGE
    ) -> None:
        self._clock = clock
        self._period = timedelta(minutes=every_minutes)
        self._events = every_events
        self._interval = interval
        self._chunk = chunk
        self._paused_until: datetime | None = None

    @classmethod
    def of(cls, settings: CommonSettings, clock: Clock) -> SealSchedule:
        return cls(clock, every_minutes=settings.seal_every_minutes, every_events=settings.seal_every_events)

    @property
    def enabled(self) -> bool:
        """False with both triggers off: sealing is then left to operators."""
        return bool(self._period or self._events)

    def due(self, status: SealStatus) -> bool:
        """Events wait, and enough of them, or for long enough."""
        if status.unsealed_events == 0:
            return False
        by_count = bool(self._events) and status.unsealed_events >= self._events
        by_time = bool(self._period) and status.age_seconds >= self._period.total_seconds()
        return by_count or by_time

    async def run(self, runtime: Runtime) -> None:
        """The service's background loop (a worker): seal what is due, then wait."""
        if not self.enabled:
            log.info("seals: no schedule (HAZARDLOOP_SEAL_EVERY_MINUTES and _EVENTS are 0); operators seal")
            return
        connection, store = runtime.broker.connection, runtime.event_store()
        await every(self._interval, lambda: self.seal_due(connection, store), what="seals", log=log)

    async def seal_due(self, nc: Client, store: EventStore) -> Outcome:
        """One round: seal every message not sealed yet, if a trigger has fired."""
        now = self._clock.now()
        if self._paused_until is not None and now < self._paused_until:
            return Outcome.PAUSED
        status = await seal_status(nc, store, now=now)
        if not self.due(status):
            return Outcome.NOTHING_DUE
        try:
            result = await seal_log(nc, store, until=status.last_sequence, chunk=self._chunk, at=now)
        except ConcurrencyError:
            log.info("seals: another sealer sealed meanwhile")
            return Outcome.SEALED_ELSEWHERE
        except UnsealableError as exc:
            self._paused_until = now + PAUSE_AFTER_DAMAGE
            log.error("seals: the log cannot be sealed: %s; run `hazardloop audit verify`", exc)
            return Outcome.REFUSED
        self._paused_until = None
        if not result.seals:
            return Outcome.SEALED_ELSEWHERE
        log.info("seals: sealed %d..%d (%d events waited)", result.seals[0].first_sequence, result.sealed_through,
                 status.unsealed_events)  # fmt: skip
        return Outcome.SEALED
