"""Commands naming a record this service's projection may not hold yet.

A client that filed a report a moment ago may act on it before this service's
projection has applied the event. The log already knows: when the row is missing, the
aggregate's first event is looked up in the log and the projection is given a moment
to apply it. Only a record the log does not hold is a 404; a projection that does not
get there in time answers 409 with Retry-After, so the client knows to ask again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from fastapi import HTTPException, status

from hazardloop.runtime.service import Runtime

T = TypeVar("T")


async def projected(
    runtime: Runtime, lookup: Callable[[], T | None], *, aggregate_type: str, aggregate_id: str, visible: Callable[[str], bool]
) -> T | None:
    """``lookup()``'s row; when missing, the row once the projection has applied the
    aggregate's first event (None if the log has no such aggregate, or none that
    ``visible`` lets the caller see, given its subsidiary)."""
    found = await asyncio.to_thread(lookup)
    if found is not None:
        return found
    first = await runtime.event_store().first_event(aggregate_type, aggregate_id)
    if first is None or not visible(first.event.tenant):
        return None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + runtime.settings.nats_timeout
    while await runtime.applied_through() < first.sequence and loop.time() < deadline:
        await asyncio.sleep(0.02)
    found = await asyncio.to_thread(lookup)
    if found is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"{aggregate_type} {aggregate_id!r} was recorded a moment ago and is still being taken in here; try again shortly",
            headers={"Retry-After": str(runtime.settings.retry_after_seconds)},
        )
    return found

