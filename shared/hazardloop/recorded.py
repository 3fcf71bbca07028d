"""What a command route answers: the events it appended, in order (HTTP 201)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fastapi import status
from pydantic import BaseModel

from hazardloop.events import Event


class RecordedEvent(BaseModel):
    event: str
    event_id: str
    occurred_at: datetime


class Recorded(BaseModel):
    """The first event appended (for clients that expect one), and all of them."""

    report_id: str
    event: str
    event_id: str
    occurred_at: datetime
    events: list[RecordedEvent]


UNCONFIRMED: dict[int | str, dict[str, Any]] = {
    status.HTTP_503_SERVICE_UNAVAILABLE: {
        "description": "The event log is unavailable: nothing was stored. Or, with `outcome: unknown` and the "
        "`event_id`, it did not confirm in time and may still record it: repeat the request to learn the outcome. "
        "Both with `Retry-After`."
    }
}
"""OpenAPI ``responses`` of a route that appends to the log."""

CREATED: dict[str, Any] = {
    "status_code": status.HTTP_201_CREATED,
    "response_model": Recorded,
    "responses": {
        status.HTTP_409_CONFLICT: {
            "description": "The state does not allow the command; or the record was created a moment ago and this "
            "service is still taking it in (with `Retry-After`: ask again)."
        },
        **UNCONFIRMED,
    },
}
"""Route options of a command that appends to a report's history."""


def recorded(report_id: str, events: Sequence[Event]) -> Recorded:
    items = [RecordedEvent(event=e.type, event_id=str(e.event_id), occurred_at=e.occurred_at) for e in events]
    return Recorded(report_id=report_id, **items[0].model_dump(), events=items)
