"""Records in the log each signal the rules raised: rewards' background round.

Outside the projection, so a rebuild (which writes every signal row again) appends
nothing; the signal's own history decides whether it is recorded already. A broker or
store outage ends the round, and the next one finds the same signals still unrecorded:
nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from hazardloop.log.eventstore import ConcurrencyError, EventStoreUnavailable
from hazardloop.runtime.rounds import every
from hazardloop_rewards.commands import RewardCommands
from hazardloop_rewards.signals.raised import unrecorded

log = logging.getLogger("hazardloop.rewards.signals")


class SignalRecorder:
    def __init__(self, commands: RewardCommands, read_model: Engine, *, interval: float, batch: int = 200) -> None:
        self._commands = commands
        self._read_model = read_model
        self._interval = interval
        self._batch = batch

    async def run(self) -> None:
        await every(self._interval, self.record_due, what="raised signals", log=log)

    async def record_due(self) -> int:
        """Record the signals raised and not yet in the log; the number of events appended."""
        appended = 0
        for signal in await asyncio.to_thread(unrecorded, self._read_model, self._batch):
            try:
                appended += len(await self._commands.record_raised(signal))
            except ConcurrencyError:
                continue  # a reviewer decided meanwhile: looked at again next round
            except (EventStoreUnavailable, OperationalError):
                raise
            except Exception:  # noqa: BLE001 - one signal that cannot be recorded never holds up the others
                log.exception("raised signals: %s/%s skipped", signal.tenant, signal.signal_id)
        return appended
