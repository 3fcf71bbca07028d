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


CREATED: dict[str, Any] = {
    "status_code": status.HTTP_201_CREATED,
    "response_model": Recorded,
}
"""Route options of a command that appends to a report's history."""


def recorded(report_id: str, events: Sequence[Event]) -> Recorded:
    items = [RecordedEvent(event=e.type, event_id=str(e.event_id), occurred_at=e.occurred_at) for e in events]
    return Recorded(report_id=report_id, **items[0].model_dump(), events=items)
