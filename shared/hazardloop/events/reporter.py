"""The reporter aggregate (its id is the pseudonym): who saw an identity, and its erasure."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import StringConstraints

from hazardloop.events.envelope import AggregateId, Event, sealed


class IdentityDisclosed(Event):
    """Someone entitled to it decrypted a reporter's identity; recorded before they see it."""

    aggregate_type: ClassVar[str] = "reporter"
    type: Literal["IdentityDisclosed"] = "IdentityDisclosed"
    report_id: AggregateId
    purpose: sealed(
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=400)],
        "Why it was opened: often about the reporter, so sealed under the report's text key.",
    )
    role: Annotated[str, StringConstraints(min_length=1, max_length=40)]


class ReporterKeyShredded(Event):
    """The reporter's data key was erased: their sealed identities are unreadable for good."""

    aggregate_type: ClassVar[str] = "reporter"
    type: Literal["ReporterKeyShredded"] = "ReporterKeyShredded"
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=400)]
