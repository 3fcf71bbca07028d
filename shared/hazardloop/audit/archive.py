"""Offline archives of the log: JSON Lines plus a manifest, verifiable with no broker.

``events.jsonl`` holds one stored message per line, in sequence order, with the event
exactly as stored (its bytes are the line's tail, so an import re-stores them
byte for byte)::

    {"seq":1,"stored_at":"2026-11-02T08:30:00.123456Z","subject":"hazard...","headers":{...},"event":{...}}

``manifest.json`` (written last: without it an export is incomplete) counts the
messages by type and subsidiary, gives the file's size and sha256, the seals seen and
the verification done while exporting. ``verify_archive`` checks every line, every
chain and seal, and the manifest; ``import_archive`` re-stores a verified archive
into an empty stream, where every message gets its original sequence.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nats.aio.client import Client
from nats.js.errors import NotFoundError

from hazardloop.audit.source import last_sequence, parse_headers, read_stream, time_of_ns
from hazardloop.audit.verify import Verdict, Verifier
from hazardloop.events import Event, decode_event
from hazardloop.log.eventstore import EventStore, Subjects

FORMAT = "hazardloop-archive"
VERSION = 1
EVENTS_FILE = "events.jsonl"
MANIFEST_FILE = "manifest.json"
EVENT_KEY = b',"event":'
_GUARD_HEADERS = ("Nats-Expected-Last-Subject-Sequence", "Nats-Expected-Last-Subject-Sequence-Subject", "Nats-Expected-Stream")
MAX_FAULTS_IN_MANIFEST = 100

Progress = Callable[[int, int], None]
"""Called with (done, total) as work advances."""


class ArchiveError(Exception):
    """The archive cannot be used: missing, not ours, or it failed verification."""

    def __init__(self, message: str, verdict: Verdict | None = None) -> None:
        super().__init__(message)
        self.verdict = verdict


def archive_line(sequence: int, stored_ns: int, subject: str, headers: dict[str, str], data: bytes, is_json: bool) -> bytes:
    head = json.dumps(
        {"seq": sequence, "stored_at": time_of_ns(stored_ns), "subject": subject, "headers": headers},
        ensure_ascii=False, separators=(",", ":"),
    ).encode()[:-1]
    if is_json:
        return head + EVENT_KEY + data + b"}\n"
    return head + b',"event_hex":"' + data.hex().encode() + b'"}\n'  # kept as evidence; it never verifies


async def export_archive(nc: Client, stream: str, directory: Path, *, progress: Progress | None = None) -> dict[str, Any]:
    """Write the whole stream, as of now, to ``directory`` (new or empty); returns the manifest."""
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise ArchiveError(f"{directory} is not empty: an archive goes into a folder of its own")
    end = await last_sequence(nc, stream)
    verifier, types, tenants = Verifier(), Counter(), Counter()
    digest, size = hashlib.sha256(), 0
    first_at = last_at = None
    partial = directory / f"{EVENTS_FILE}.partial"
    with partial.open("wb") as out:
        async for batch in read_stream(nc, stream, until=end):
            for message in batch:
                headers = parse_headers(message.headers)
                document = verifier.feed(message.sequence, message.subject, message.data, headers=headers)
                line = archive_line(message.sequence, message.stored_ns, message.subject, headers, message.data, document is not None)
                out.write(line)
                digest.update(line)
                size += len(line)
                if document is not None:
                    types[str(document.get("type"))] += 1
                    tenants[str(document.get("tenant"))] += 1
                first_at = first_at or time_of_ns(message.stored_ns)
                last_at = time_of_ns(message.stored_ns)
            if progress:
                progress(batch[-1].sequence if batch else end, end)
        out.flush()
        os.fsync(out.fileno())
    verdict = verifier.finish(expected_last=end)
    partial.rename(directory / EVENTS_FILE)
    prefix = _prefix_of(nc, stream)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "stream": stream,
        "subject_prefix": await prefix,
        "exported_at": datetime.now(UTC).isoformat(),
        "first_sequence": 1 if end else 0,
        "last_sequence": end,
        "events": verdict.events,
        "first_stored_at": first_at,
        "last_stored_at": last_at,
        "types": dict(sorted(types.items())),
        "tenants": dict(sorted(tenants.items())),
        "events_file": EVENTS_FILE,
        "events_bytes": size,
        "events_sha256": digest.hexdigest(),
        "seals": verdict.seals,
        "sealed_through": verdict.sealed_through,
        "head_seal": verdict.head_seal,
        "verified": verdict.ok,
        "faults": [asdict(fault) for fault in verdict.faults[:MAX_FAULTS_IN_MANIFEST]],
    }
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


async def _prefix_of(nc: Client, stream: str) -> str:
    subjects = (await nc.jetstream().stream_info(stream)).config.subjects or ["hazard.>"]
    return subjects[0].split(".", 1)[0]


def manifest_digest(directory: Path) -> str:
    """sha256 of the manifest: what an auditor writes down to recognise this archive later."""
    return hashlib.sha256((directory / MANIFEST_FILE).read_bytes()).hexdigest()


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST_FILE
    if not (directory / EVENTS_FILE).is_file():
        raise ArchiveError(f"{directory} holds no {EVENTS_FILE}")
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise ArchiveError(f"{directory} has no {MANIFEST_FILE}: the export did not finish") from None
    except ValueError as exc:
        raise ArchiveError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ArchiveError(f"{path} is not a {FORMAT} v{VERSION} manifest")
    return manifest


def lines(directory: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) of the events file, the newline kept (a cut-off line has none)."""
    with (directory / EVENTS_FILE).open("rb") as source:
        yield from enumerate(source, start=1)


def event_bytes(line: bytes) -> bytes:
    """The stored event of a verified line: its bytes exactly as the broker held them."""
    return line[line.index(EVENT_KEY) + len(EVENT_KEY) : -2]


def verify_archive(directory: Path, *, progress: Progress | None = None) -> tuple[dict[str, Any], Verdict]:
    """Check every line, chain and seal, and the manifest's counts, size and sha256."""
    manifest = read_manifest(directory)
    expected = int(manifest.get("last_sequence") or 0)
    verifier, digest, size, types = Verifier(), hashlib.sha256(), 0, Counter()
    previous = 0
    for number, line in lines(directory):
        digest.update(line)
        size += len(line)
        if not line.endswith(b"\n"):
            verifier.fault(previous + 1, "truncated", f"line {number} is cut short: the archive was truncated", number)
            continue
        try:
            record = json.loads(line)
            sequence, subject, headers = record["seq"], record["subject"], record["headers"]
            document = record["event"] if "event" in record else None
            if type(sequence) is not int or not isinstance(subject, str) or not isinstance(headers, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            verifier.fault(None, "altered", f"line {number} (after sequence {previous}) is not an archive record", number)
            continue
        if document is None:
            verifier.feed(sequence, subject, b"", headers=headers, line=number)
        else:
            document = verifier.feed(sequence, subject, document=document, headers=headers, line=number)
            if document is not None:
                types[str(document.get("type"))] += 1
        previous = sequence
        if progress and number % 10_000 == 0:
            progress(sequence, expected)
    verdict = verifier.finish(expected_last=expected)
    if size != manifest.get("events_bytes") or digest.hexdigest() != manifest.get("events_sha256"):
        verifier.fault(None, "archive", f"{EVENTS_FILE} is not the file the manifest describes (size or sha256 differs)")
    if verdict.events != manifest.get("events") or dict(sorted(types.items())) != manifest.get("types"):
        verifier.fault(None, "archive", "the manifest's counts do not match the events file")
    if progress:
        progress(expected, expected)
    return manifest, verdict


async def import_archive(
    nc: Client, directory: Path, stream: str, *, replicas: int = 1, progress: Progress | None = None
) -> int:
    """Re-store a verified archive into ``stream``, which must be new or empty.

    Every message keeps its sequence, subject, headers (less the append guards) and
    bytes, so projections rebuilt from the import equal those rebuilt from the original.
    Returns the messages stored.
    """
    manifest = require_intact(directory)
    js = nc.jetstream()
    try:
        held = (await js.stream_info(stream)).state.messages
    except NotFoundError:
        held = 0
    if held:
        raise ArchiveError(f"stream {stream} already holds {held} messages: import only into an empty stream")
    store = EventStore(nc, stream=stream, subjects=Subjects(manifest["subject_prefix"]), timeout=10.0)
    await store.ensure_stream(replicas=replicas)
    total, stored, pending = int(manifest["last_sequence"]), 0, []

    async def settle() -> None:
        nonlocal stored
        for sequence, future in pending:
            ack = await future
            if ack.seq != sequence:
                raise ArchiveError(f"sequence {sequence} was stored as {ack.seq}: was the stream written meanwhile?")
            stored += 1
        pending.clear()
        if progress:
            progress(stored, total)

    for _, line in lines(directory):
        record = json.loads(line[: line.index(EVENT_KEY)] + b"}")
        headers = {k: v for k, v in record["headers"].items() if k not in _GUARD_HEADERS}
        future = await js.publish_async(record["subject"], event_bytes(line), headers=headers or None, wait_stall=10)
        pending.append((record["seq"], future))
        if len(pending) >= 2000:
            await settle()
    await settle()
    return stored


def where(fault) -> str:
    """A fault's position in words: sequence and, in an archive, line."""
    if fault is None:
        return "an unknown position"
    parts = [f"sequence {fault.sequence}"] if fault.sequence is not None else []
    if fault.line is not None:
        parts.append(f"line {fault.line}")
    return ", ".join(parts) or "the archive as a whole"


def archive_events(directory: Path, types: Collection[str] | None = None, *, until: int | None = None) -> Iterator[tuple[int, Event]]:
    """(sequence, event) of a verified archive, oldest first; only ``types`` if given."""
    for _, line in lines(directory):
        cut = line.index(EVENT_KEY)
        head = json.loads(line[:cut] + b"}")
        if until is not None and head["seq"] > until:
            return
        if types is None or head["subject"].rpartition(".")[2] in types:
            yield head["seq"], decode_event(line[cut + len(EVENT_KEY) : -2])


def require_intact(directory: Path, *, progress: Progress | None = None) -> dict[str, Any]:
    """The manifest of an archive that verifies; else ``ArchiveError`` naming the first fault."""
    manifest, verdict = verify_archive(directory, progress=progress)
    if not verdict.ok:
        first = verdict.first_fault()
        raise ArchiveError(f"the archive failed verification at {where(first)}: {first.detail}", verdict)
    return manifest
