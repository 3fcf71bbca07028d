"""The seal aggregate: periodic commitments to whole ranges of the log.

Each event is chained to its own aggregate's previous event, which proves an
aggregate's history intact but cannot notice a whole aggregate's last event going
missing, or two events of different aggregates trading places. A seal commits to
every stored message of a contiguous sequence range, in order, so those are caught
too; seals are chained to one another like any aggregate's events.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Self

from pydantic import Field, StringConstraints, model_validator

from hazardloop.events.envelope import Event, Sha256Hex

SEAL_TENANT = "group"
"""Seals cover the whole log, every subsidiary at once: they live under the group."""
SEAL_AGGREGATE_ID = "log"
MAX_SEAL_RANGE = 10_000
"""Messages per seal: keeps a seal event (8 characters of marks per message) under 100 KB."""
MARK_LENGTH = 8


class RangeSealed(Event):
    """Every message stored at sequences ``first_sequence..last_sequence`` is committed to.

    ``digest`` is sha256 over the leaves of the range in sequence order, a leaf being
    sha256 of ``"<sequence>\\n<subject>\\n<event hash>"``. ``marks`` holds the first
    eight hex digits of each leaf: they do not add to the proof, they let a verifier
    name the exact sequence where an altered, missing or reordered message sits.
    """

    aggregate_type: ClassVar[str] = "seal"
    type: Literal["RangeSealed"] = "RangeSealed"
    algorithm: Literal["sha256-leaves-v1"] = "sha256-leaves-v1"
    first_sequence: Annotated[int, Field(ge=1, strict=True)]
    last_sequence: Annotated[int, Field(ge=1, strict=True)]
    count: Annotated[int, Field(ge=1, le=MAX_SEAL_RANGE, strict=True)]
    digest: Sha256Hex
    marks: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]*$", max_length=MAX_SEAL_RANGE * MARK_LENGTH)]

    @model_validator(mode="after")
    def _whole_range(self) -> Self:
        if self.last_sequence - self.first_sequence + 1 != self.count or len(self.marks) != self.count * MARK_LENGTH:
            raise ValueError("a seal covers first..last inclusive, with one mark per message")
        return self
