"""Notifications' own metrics: the outbox (e-mail, endpoints) and the inboxes, by channel.

A delivery is pending until the log records its outcome, and failed once dead-lettered
after its last attempt; one still pending whose last attempt failed is retrying, which
is what an unreachable mail server or endpoint looks like long before anything fails.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, Subquery, func, literal, select, union_all

from hazardloop.runtime.storegauges import StoreGauge, timers_due
from hazardloop.timing.clock import Clock
from hazardloop_notifications.store import attempts, deliveries, inbox, reports

STATES = ("pending", "failed")


def all_deliveries() -> Subquery:
    """Outbox and inbox alike: channel, status, creation and key of each delivery."""
    outbox = select(deliveries.c.channel, deliveries.c.status, deliveries.c.created_at, deliveries.c.key)
    inboxes = select(literal("inbox").label("channel"), inbox.c.status, inbox.c.created_at, inbox.c.key)
    return union_all(outbox, inboxes).subquery("delivery")


def by_state(connection: Connection) -> Mapping[tuple[str, ...], float]:
    every = all_deliveries()
    query = select(every.c.channel, every.c.status, func.count()).where(every.c.status.in_(STATES)).group_by(every.c.channel, every.c.status)
    return {(channel, status): count for channel, status, count in connection.execute(query)}


def retrying(connection: Connection) -> Mapping[tuple[str, ...], float]:
    every = all_deliveries()
    query = (
        select(every.c.channel, func.count())
        .select_from(every.join(attempts, attempts.c.key == every.c.key))
        .where(every.c.status == "pending", attempts.c.done.is_(False), attempts.c.last_error.is_not(None))
        .group_by(every.c.channel)
    )
    return {(channel,): count for channel, count in connection.execute(query)}


def gauges(clock: Clock) -> list[StoreGauge]:
    def oldest_pending(connection: Connection) -> Mapping[tuple[str, ...], float]:
        every = all_deliveries()
        oldest = connection.execute(select(func.min(every.c.created_at)).where(every.c.status == "pending")).scalar_one()
        return {(): max(0.0, (clock.now() - oldest).total_seconds()) if oldest is not None else 0.0}

    return [
        StoreGauge("hazardloop_notification_deliveries", "Deliveries not yet sent (pending) or given up (failed), by channel.", by_state, ("channel", "state")),
        StoreGauge("hazardloop_notification_deliveries_retrying", "Pending deliveries whose last attempt failed, by channel.", retrying, ("channel",)),
        StoreGauge("hazardloop_notification_oldest_pending_seconds", "Age of the oldest delivery still pending (0: none).", oldest_pending),
        *timers_due(clock.now, {"reminder": (reports.c.next_reminder_at, reports.c.stage == "rectifying")}),
    ]
