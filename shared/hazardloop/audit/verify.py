"""Verify the log: every event against its own hash, every aggregate's chain, every seal.

Pure: it is fed stored messages (from a live stream or an archive) in the order they
come and names the exact sequence of every fault. What each check catches:

- an altered event no longer matches its own ``hash`` (or is no JSON at all);
- an event whose hash was recomputed breaks its aggregate's chain at the next event,
  and its seal's mark at its own sequence;
- a dropped or reordered message leaves a gap or an out-of-order sequence (archives),
  and in a sealed range a mark that no longer matches at that sequence;
- a re-addressed event no longer matches its subject (nor its seal's leaf).
"""

from __future__ import annotations

import json
from array import array
from dataclasses import dataclass, field

from hazardloop.audit.seal import commit, leaf
from hazardloop.events import EVENT_TYPES, GENESIS_HASH, MARK_LENGTH, RangeSealed, chain_hash

AGGREGATE_OF = {kind.model_fields["type"].default: kind.aggregate_type for kind in EVENT_TYPES}
_LEAF = 32
_MISSING = bytes(_LEAF)
_MAX_REMEMBERED_GAP = 10_000
MARKS_REPORTED = 10
"""Per seal, the mismatching sequences named one by one; the rest are counted."""


def _bisect(arrivals: array, tails: list[int], sequence: int) -> int:
    low, high = 0, len(tails)
    while low < high:
        middle = (low + high) // 2
        if arrivals[tails[middle]] < sequence:
            low = middle + 1
        else:
            high = middle
    return low


@dataclass(frozen=True, slots=True)
class Fault:
    sequence: int | None
    """Where in the log: the stream sequence (None when a line gives none)."""
    kind: str
    detail: str
    line: int | None = None
    """The archive line, when reading an archive."""


def _position(fault: Fault) -> tuple:
    """Log order; at one sequence, the fault that also names its archive line first."""
    return (fault.sequence is None, fault.sequence or 0, fault.line is None, fault.line or 0)


@dataclass
class Verdict:
    events: int = 0
    last_sequence: int = 0
    seals: int = 0
    sealed_through: int = 0
    head_seal: str | None = None
    """The last seal's hash: note it, and a later verify proves nothing before it changed."""
    faults: list[Fault] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults

    @property
    def unsealed(self) -> int:
        return self.last_sequence - self.sealed_through

    def first_fault(self) -> Fault | None:
        return min(self.faults, key=_position, default=None)


class Verifier:
    """Feed it every stored message, then ``finish()``; it keeps one seal range of leaves."""

    def __init__(self) -> None:
        self.verdict = Verdict()
        self._chains: dict[str, tuple[str, int]] = {}
        self._leaves = bytearray()
        self._leaves_from = 1
        self._seal_hash = GENESIS_HASH
        self._seal_at = 0
        self._highest = 0
        self._missing: set[int] = set()
        self._arrivals = array("q")
        self._lines = array("q")
        self._disordered = False
        self._prefix: str | None = None

    def fault(self, sequence: int | None, kind: str, detail: str, line: int | None = None) -> None:
        self.verdict.faults.append(Fault(sequence, kind, detail, line))

    def feed(
        self, sequence: int, subject: str, data: bytes | None = None, *, document: object = None,
        headers: dict[str, str] | None = None, line: int | None = None,
    ) -> dict | None:
        """Check one stored message; returns its event document when it is one."""
        self.verdict.events += 1
        if not self._in_order(sequence, line):
            return None
        if document is None:
            try:
                document = json.loads(data)
            except (ValueError, TypeError):
                self.fault(sequence, "altered", "the stored message is not a JSON event", line)
                return None
        if not isinstance(document, dict) or not isinstance(document.get("hash"), str):
            self.fault(sequence, "altered", "the stored message is not an event (no hash)", line)
            return None
        if document["hash"] != chain_hash(document):
            self.fault(sequence, "altered", "the event does not match its own hash: its content was changed", line)
        self._remember_leaf(sequence, subject, document["hash"])
        kind = document.get("type")
        aggregate = AGGREGATE_OF.get(kind)
        if aggregate is None:
            self.fault(sequence, "altered", f"unknown event type {kind!r}", line)
            return document
        self._check_address(sequence, subject, document, aggregate, headers, line)
        key = f"{document.get('tenant')}.{aggregate}.{document.get('aggregate_id')}"
        previous_hash, previous_at = self._chains.get(key, (GENESIS_HASH, 0))
        if document.get("prev_hash") != previous_hash:
            if previous_at:
                detail = (f"its prev_hash is not the hash of {aggregate} {document.get('aggregate_id')}'s previous event "
                          f"(sequence {previous_at}): that one was altered, or an event between was dropped or moved")
            else:
                detail = f"the first event of {aggregate} {document.get('aggregate_id')} in the log does not start its chain"
            self.fault(sequence, "chain broken", detail, line)
        self._chains[key] = (document["hash"], sequence)
        if kind == RangeSealed.model_fields["type"].default:
            self._check_seal(sequence, document, line)
        return document

    def _in_order(self, sequence: int, line: int | None) -> bool:
        """Note where the message stands; reordered ones are named at ``finish`` (an
        archive's lines may be shuffled, a live stream's never are)."""
        self._arrivals.append(sequence)
        self._lines.append(line or 0)
        expected = self._highest + 1
        if sequence >= expected:
            if sequence - expected > _MAX_REMEMBERED_GAP:
                self.fault(expected, "gap", f"sequences {expected}..{sequence - 1} are missing", line)
            else:
                self._missing.update(range(expected, sequence))
            self._highest = sequence
            return True
        self._disordered = True
        if sequence in self._missing:
            self._missing.discard(sequence)
            return True
        self._arrivals.pop()
        self._lines.pop()
        self.fault(sequence, "duplicate", f"sequence {sequence} appears a second time", line)
        return False

    def _reordered(self) -> None:
        """The messages outside the longest run in rising order are the ones moved."""
        arrivals = self._arrivals
        tails: list[int] = []  # tails[k]: index of the smallest last sequence of a rising run of length k+1
        before = [-1] * len(arrivals)
        for index, sequence in enumerate(arrivals):
            k = _bisect(arrivals, tails, sequence)
            before[index] = tails[k - 1] if k else -1
            if k == len(tails):
                tails.append(index)
            else:
                tails[k] = index
        kept = set()
        index = tails[-1] if tails else -1
        while index >= 0:
            kept.add(index)
            index = before[index]
        for index, sequence in enumerate(arrivals):
            if index not in kept:
                line = self._lines[index] or None
                self.fault(sequence, "reordered", f"sequence {sequence} is out of place"
                           + (f" (line {line})" if line else ""), line)

    def _check_address(self, sequence: int, subject: str, document: dict, aggregate: str, headers, line) -> None:
        prefix = subject.split(".", 1)[0]
        self._prefix = self._prefix or prefix
        expected = f"{self._prefix}.{document.get('tenant')}.{aggregate}.{document.get('aggregate_id')}.{document.get('type')}"
        if subject != expected:
            self.fault(sequence, "altered", f"stored under {subject}, but the event belongs under {expected}", line)
        if headers:
            event_id = str(document.get("event_id"))
            wrong = [name for name, value in (
                ("Nats-Msg-Id", event_id), ("ce-id", event_id), ("ce-tenant", document.get("tenant")),
                ("ce-subject", document.get("aggregate_id")), ("ce-aggregatetype", aggregate),
                ("ce-type", f"hazardloop.{document.get('type')}.v{document.get('schema_version')}"),
            ) if name in headers and headers[name] != value]
            if wrong:
                self.fault(sequence, "altered", f"headers {', '.join(wrong)} do not match the event", line)

    def _remember_leaf(self, sequence: int, subject: str, event_hash: str) -> None:
        offset = (sequence - self._leaves_from) * _LEAF
        if offset < 0:
            return  # already sealed: the order checks have named it
        if offset > len(self._leaves):
            self._leaves.extend(_MISSING * ((offset - len(self._leaves)) // _LEAF))
        self._leaves[offset : offset + _LEAF] = leaf(sequence, subject, event_hash)

    def _check_seal(self, sequence: int, document: dict, line: int | None) -> None:
        try:
            seal = RangeSealed.model_validate(document)
        except ValueError as exc:
            self.fault(sequence, "seal", f"malformed seal: {exc.__class__.__name__}", line)
            return
        verdict = self.verdict
        verdict.seals += 1
        if seal.first_sequence != verdict.sealed_through + 1 or seal.last_sequence >= sequence:
            self.fault(sequence, "seal", f"the seal covers {seal.first_sequence}..{seal.last_sequence}, "
                       f"but the previous seal ended at {verdict.sealed_through}", line)
            return
        start = (seal.first_sequence - self._leaves_from) * _LEAF
        end = start + seal.count * _LEAF
        if len(self._leaves) < end:
            self._leaves.extend(_MISSING * ((end - len(self._leaves)) // _LEAF))
        leaves = [bytes(self._leaves[k : k + _LEAF]) for k in range(start, end, _LEAF)]
        digest, marks = commit(leaves)
        if marks != seal.marks:
            wrong = [seal.first_sequence + i for i in range(seal.count)
                     if marks[i * MARK_LENGTH : (i + 1) * MARK_LENGTH] != seal.marks[i * MARK_LENGTH : (i + 1) * MARK_LENGTH]]
            for at in wrong[:MARKS_REPORTED]:
                missing = leaves[at - seal.first_sequence] == _MISSING
                self.fault(at, "sealed range", f"{'missing: ' if missing else ''}the message at sequence {at} is not "
                           f"the one the seal at sequence {sequence} committed to", line if at == sequence else None)
            if len(wrong) > MARKS_REPORTED:
                self.fault(wrong[MARKS_REPORTED], "sealed range", f"and {len(wrong) - MARKS_REPORTED} more messages "
                           f"in {seal.first_sequence}..{seal.last_sequence}")
        elif digest != seal.digest:
            self.fault(sequence, "seal", f"the range {seal.first_sequence}..{seal.last_sequence} does not hash to the "
                       "seal's digest", line)
        del self._leaves[:end]
        self._leaves_from = seal.last_sequence + 1
        verdict.sealed_through, verdict.head_seal = seal.last_sequence, seal.hash

    def finish(self, *, expected_last: int | None = None) -> Verdict:
        """Close the books: gaps never filled, and a log shorter than it should be."""
        verdict = self.verdict
        for sequence in sorted(self._missing):
            self.fault(sequence, "gap", f"sequence {sequence} is missing")
        self._missing.clear()
        if self._disordered:
            self._reordered()
        verdict.last_sequence = self._highest
        if expected_last is not None and self._highest < expected_last:
            self.fault(self._highest + 1, "truncated", f"the log ends at sequence {self._highest}, "
                       f"it should run to {expected_last}")
        verdict.faults.sort(key=_position)
        return verdict
