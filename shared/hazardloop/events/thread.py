"""The thread aggregate (its id is the report's): messages between a report's reporter,
anonymous ones included, and the safety department of its subsidiary.

A thread of its own, not events on the report: writing to the reporter never races
with casework for the report's next sequence number, and the casework aggregate's
invariants stay about casework. The text is sealed under the report's text key like the
report's own words, so erasing the report's text erases its thread too.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, StringConstraints

from hazardloop.events.envelope import Event, _printable, sealed

MESSAGE_LIMIT = 2000
"""Characters a message may have: a phone's worth of writing, read at a glance."""

MessageText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MESSAGE_LIMIT), AfterValidator(_printable)
]


class ReporterWrote(Event):
    """The reporter wrote to the safety department about their report.

    ``actor`` is ``reporter:<pseudonym>``: an anonymous reporter is known by the
    pseudonym their receipt code gave the report, never by anything else.
    """

    aggregate_type: ClassVar[str] = "thread"
    type: Literal["ReporterWrote"] = "ReporterWrote"
    text: sealed(MessageText, "The reporter's message.")


class StaffWrote(Event):
    """A member of the safety department wrote to the reporter (``actor`` names them)."""

    aggregate_type: ClassVar[str] = "thread"
    type: Literal["StaffWrote"] = "StaffWrote"
    text: sealed(MessageText, "The safety department's message.")
