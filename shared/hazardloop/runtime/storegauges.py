"""Gauges a service reads from its own store at each scrape of ``/metrics``: its dead
letters, and what a service adds of its own (``StoreGauge``), such as its due clocks."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Table, func, inspect, select

log = logging.getLogger("hazardloop.runtime.metrics")


@dataclass(frozen=True)
class StoreGauge:
    """A gauge a service reads from its own store at each scrape.

    ``read`` gets a connection and returns the value of each label combination (in the
    order of ``labels``); ``service`` is added to every series. A reading that fails (the
    table not created yet, the database away) shows the gauge without a value.
    """

    name: str
    documentation: str
    read: Callable[[Connection], Mapping[tuple[str, ...], float]]
    labels: tuple[str, ...] = ()


def read_gauge(connection: Connection, store_gauge: StoreGauge) -> Mapping[tuple[str, ...], float]:
    """One gauge's values; none if it cannot be read (one does not hide the others)."""
    try:
        return store_gauge.read(connection)
    except Exception as exc:  # noqa: BLE001 - a table not created yet, a query the store refuses
        log.debug("metric %s could not be read: %r", store_gauge.name, exc)
        connection.rollback()
        return {}


def dead_letters(table: Table | None) -> StoreGauge:
    """How many events the projection parked (listed at ``GET /dead-letters``); unknown
    before the projection runs (``table`` None)."""

    def read(connection: Connection) -> Mapping[tuple[str, ...], float]:
        if table is None:
            return {}
        if not inspect(connection).has_table(table.name):
            return {(): 0}
        return {(): connection.execute(select(func.count()).select_from(table)).scalar_one()}

    return StoreGauge("hazardloop_dead_letters", "Events the projection parked because they could not be applied.", read)


def timers_due(now: Callable[[], datetime], clocks: Mapping[str, tuple[ColumnElement[datetime], ColumnElement[bool]]]) -> list[StoreGauge]:
    """How many clocks are due and not fired, and how late the oldest is, per kind of clock.

    ``clocks`` names each kind by its due column and the condition of a clock still to
    fire; ``now`` is the service's clock, the one its timekeeper fires by. A timekeeper
    keeps both near zero: a count that stays up means it is not firing.
    """

    def count(connection: Connection) -> Mapping[tuple[str, ...], float]:
        moment = now()
        return {(kind,): connection.execute(select(func.count()).where(waiting, due <= moment)).scalar_one() for kind, (due, waiting) in clocks.items()}

    def lateness(connection: Connection) -> Mapping[tuple[str, ...], float]:
        moment, late = now(), {}
        for kind, (due, waiting) in clocks.items():
            oldest = connection.execute(select(func.min(due)).where(waiting, due <= moment)).scalar_one()
            late[(kind,)] = max(0.0, (moment - oldest).total_seconds()) if oldest is not None else 0.0
        return late

    return [
        StoreGauge("hazardloop_timers_due", "Clocks due by now that have not fired yet.", count, ("clock",)),
        StoreGauge("hazardloop_timers_overdue_seconds", "How long the oldest due clock has waited to fire (0: none due).", lateness, ("clock",)),
    ]
