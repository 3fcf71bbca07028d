"""What a projection is: the events it applies, how, and what it does in reaction; and an
event as the log delivers it to one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from opentelemetry.context import Context
from sqlalchemy import MetaData

from hazardloop.events import Event, decode_event
from hazardloop.projections.writer import Writer
from hazardloop.runtime import tracing
from hazardloop.runtime.logs import bound_to

Apply = Callable[[Any, Writer], None]
React = Callable[[Any], Awaitable[None]]
Prepare = Callable[[Sequence["Delivery"]], Awaitable[None]]
NEEDS_TEXT_KEYS = "needs_text_keys"
"""Marks (in a table's ``info``) a table folded from reports' sealed text opened with the
subsidiaries' keys (the console's blind index of descriptions): a rebuild without the keys
(an auditor's) leaves it empty, so audits do not compare it; the service's own rebuild,
which holds the keys, rebuilds it like any other."""


class Delivery(NamedTuple):
    """One event as delivered: where it sits in the log, and the event or why not
    (a named tuple: immutable, and made per event for a quarter of a frozen dataclass)."""

    sequence: int
    subject: str
    event: Event | None
    error: str | None = None
    trace: Context | None = None
    """The context the event was appended in, to continue its trace (None when not tracing)."""


def delivery_of(sequence: int, subject: str, data: bytes, headers: dict[str, str] | None = None) -> Delivery:
    """Decode a message of the log; an undecodable event is poison, not a crash."""
    try:
        event: Event | None = decode_event(data)
        error = None
    except Exception as exc:  # noqa: BLE001 - the delivery carries the error instead
        event, error = None, f"cannot decode event: {exc}"
    return Delivery(sequence, subject, event, error, tracing.event_context(headers))


@dataclass(frozen=True)
class Projection:
    """A read model: which events it applies, how, and what it does in reaction.

    ``handlers`` and ``reactions`` map an event class to one small function each; the
    mapping is the one visible place where a service's subscriptions are registered.
    ``prepare``, when given, is awaited on every batch before its handlers run, live and
    in a rebuild: it fetches what the (synchronous) handlers need from outside the log,
    such as the keys that open sealed text, and never writes the store itself.
    """

    name: str
    metadata: MetaData
    handlers: Mapping[type[Event], Apply]
    reactions: Mapping[type[Event], React] = field(default_factory=dict)
    prepare: Prepare | None = None
    reset: Callable[[], None] | None = None
    """Drops what the handlers keep in memory between batches (counters derived from the
    store), for them to count again from the store: called when a batch is abandoned
    (its transaction rolled back) or the checkpoint moved behind this runner's back."""

    defer: Callable[[bool], None] | None = None
    """Told when a replay from an empty store starts (True) and ends (False): meanwhile the
    handlers may leave to ``settle`` what they can work out from the store's rows at the end."""
    settle: Callable[[Writer], object] | None = None
    """Run at the end of such a replay, in a transaction of its own after its last batch."""
    committed: Callable[[Sequence[Event]], None] | None = None
    """Told of each batch the live runner committed, on the event loop's thread (never in a
    rebuild): lets a worker that acts on the rows the batch wrote start at once."""

    def forget(self) -> None:
        if self.reset is not None:
            self.reset()

    @property
    def event_types(self) -> list[str]:
        kinds = {*self.handlers, *self.reactions}
        return sorted(kind.model_fields["type"].default for kind in kinds)

    def handle(self, writer: Writer, deliveries: Iterable[Delivery], *, after: int) -> tuple[int, Delivery | None]:
        """Run the handlers of the events past ``after``: (how many, the last of them).

        ``deliveries`` is iterated once, so it may decode each event only when its
        turn comes: then no batch of decoded events is ever held in memory.
        """
        handlers = self.handlers
        applied, last = 0, None
        for delivery in deliveries:
            if delivery.sequence <= after:
                continue
            if delivery.event is None:
                raise ValueError(delivery.error or "undecodable event")
            handler = handlers.get(type(delivery.event))
            if handler is None:
                pass
            elif delivery.trace is None:
                handler(delivery.event, writer)
            else:  # traced: the handler's part of the event's trace (a rebuild traces nothing)
                with tracing.consuming(self.name, "apply", delivery.event, delivery.sequence, delivery.trace), bound_to(delivery.event):
                    handler(delivery.event, writer)
            applied, last = applied + 1, delivery
        return applied, last
