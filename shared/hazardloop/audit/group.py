"""Verify the hub's group stream as the proof of every site's own log.

Sourcing gives each message a new sequence in the group stream, so the seals a site
made (over its own sequences) cannot be checked against group sequences. Each sourced
message carries ``Nats-Stream-Source: <origin stream>:<origin id> <origin sequence> ...``,
so it is fed, at its origin sequence, to a verifier of its own origin: every site's hashes,
chains and seals are proved as that site stored them, a gap or a repeat in a site's
sequences names a lost or duplicated message, and a subsidiary found under two origins
names sites whose subjects overlap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hazardloop.audit.verify import Fault, Verdict, Verifier
from hazardloop.events import SEAL_TENANT, RangeSealed

SOURCE_HEADER = "Nats-Stream-Source"


def origin_of(headers: dict[str, str] | None) -> tuple[str, int] | None:
    """(origin, origin sequence) of a sourced message, None for one that was not sourced."""
    fields = (headers or {}).get(SOURCE_HEADER, "").split()
    if len(fields) < 2 or not fields[1].isdigit():
        return None
    return fields[0], int(fields[1])


@dataclass
class Origin:
    """One site's stream as the group stream holds it."""

    label: str
    verifier: Verifier = field(default_factory=Verifier)
    tenants: set[str] = field(default_factory=set)
    seal_chain: str | None = None
    at: dict[int, int] = field(default_factory=dict)
    """Origin sequence -> group sequence, to name where a fault sits in the group stream."""

    @property
    def name(self) -> str:
        """The site, as its seal chain names it, else by its subsidiaries."""
        return self.seal_chain or "+".join(sorted(self.tenants)) or self.label


class GroupVerifier:
    """Feed it every message of the group stream, then ``finish()``."""

    def __init__(self) -> None:
        self.origins: dict[str, Origin] = {}
        self._homes: dict[str, str] = {}
        self._events = 0
        self._last = 0
        self._faults: list[Fault] = []

    def feed(self, sequence: int, subject: str, data: bytes | None, *, headers: dict[str, str] | None) -> None:
        self._events += 1
        self._last = max(self._last, sequence)
        found = origin_of(headers)
        if found is None:
            self._faults.append(Fault(sequence, "not sourced", "the message carries no Nats-Stream-Source: "
                                      "it was not copied from a site, so nothing proves where it came from"))
            return
        label, origin_sequence = found
        origin = self.origins.setdefault(label, Origin(label))
        origin.at.setdefault(origin_sequence, sequence)
        document = origin.verifier.feed(origin_sequence, subject, data, headers=headers)
        if not document:
            return
        tenant = document.get("tenant")
        if tenant == SEAL_TENANT and document.get("type") == RangeSealed.model_fields["type"].default:
            origin.seal_chain = document.get("aggregate_id")
            return
        origin.tenants.add(tenant)
        home = self._homes.setdefault(tenant, label)
        if home != label:
            self._faults.append(Fault(sequence, "overlap", f"subsidiary {tenant} is stored by two sites' streams "
                                      f"({home} and {label}): their subjects overlap"))

    def finish(self) -> Verdict:
        """One verdict over every origin; each fault names its site and the site's own sequence."""
        verdict = Verdict(events=self._events, last_sequence=self._last, faults=list(self._faults))
        for origin in self.origins.values():
            own = origin.verifier.finish()
            verdict.seals += own.seals
            verdict.sealed_through += own.sealed_through  # sealed messages, counted over every site
            for fault in own.faults:
                where = origin.at.get(fault.sequence) if fault.sequence is not None else None
                verdict.faults.append(Fault(where, fault.kind, f"site {origin.name}, its sequence {fault.sequence}: {fault.detail}"))
        verdict.faults.sort(key=lambda fault: (fault.sequence is None, fault.sequence or 0))
        return verdict

    def sites(self) -> dict[str, Verdict]:
        """Each origin's own verdict by site name (call after ``finish``)."""
        return {origin.name: origin.verifier.verdict for origin in self.origins.values()}
