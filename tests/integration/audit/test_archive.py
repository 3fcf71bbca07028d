"""Export a real stream, verify the archive offline, and find every kind of tampering by
its exact sequence; import it into an empty stream and get the same log back."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import nats
import pytest

from hazardloop.audit import archive
from hazardloop.audit.source import read_stream
from hazardloop.log.natsserver import NatsServer
from hazardloop.log.pull import PULL_PATH


def export(log, directory: Path) -> dict:
    async def run():
        connection = await nats.connect(log.url)
        try:
            return await archive.export_archive(connection, log.stream, directory)
        finally:
            await connection.close()

    return asyncio.run(run())


@pytest.fixture
def exported(small_log, tmp_path):
    directory = tmp_path / "archive"
    manifest = export(small_log, directory)
    return small_log, directory, manifest


def edit_lines(directory: Path, change) -> None:
    path = directory / archive.EVENTS_FILE
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(change(lines)))


def test_an_export_counts_everything_and_verifies(exported):
    log, directory, manifest = exported
    assert manifest["verified"] and manifest["faults"] == []
    assert manifest["events"] == manifest["last_sequence"] == log.last == 13  # 10 + seal + 2
    assert manifest["types"]["RangeSealed"] == 1 and manifest["types"]["RewardGranted"] == 1
    assert manifest["tenants"] == {"group": 1, "mine": 2, "refinery": 10}
    assert manifest["seals"] == 1 and manifest["sealed_through"] == log.sealed_through == 10
    _, verdict = archive.verify_archive(directory)
    assert verdict.ok and verdict.events == 13 and verdict.unsealed == 3


def test_an_export_read_through_nats_pys_public_pull_api_is_the_same_byte_for_byte(exported, tmp_path, monkeypatch):
    log, directory, _ = exported
    monkeypatch.setenv(PULL_PATH, "public")
    export(log, tmp_path / "public")
    assert (tmp_path / "public" / archive.EVENTS_FILE).read_bytes() == (directory / archive.EVENTS_FILE).read_bytes()


def test_one_changed_byte_is_named_by_its_sequence(exported):
    _, directory, _ = exported

    def change(lines):
        line = lines[1]  # sequence 2
        at = line.index(b"Gas detector") + 4
        lines[1] = line[:at] + b"X" + line[at + 1 :]
        return lines

    edit_lines(directory, change)
    _, verdict = archive.verify_archive(directory)
    first = verdict.first_fault()
    assert (first.sequence, first.kind, first.line) == (2, "altered", 2)
    assert {f.sequence for f in verdict.faults if f.sequence is not None} == {2}


def test_a_recomputed_hash_still_shows_in_the_chain_and_the_seal(exported):
    """Someone who edits an event and fixes its hash breaks its aggregate's chain, and
    the seal names the edited sequence itself."""
    from hazardloop.events import chain_hash

    _, directory, _ = exported

    def change(lines):
        record = json.loads(lines[0])
        record["event"]["description"] = "Nothing to see here"
        record["event"]["hash"] = chain_hash(record["event"])
        lines[0] = json.dumps(record, separators=(",", ":")).encode() + b"\n"
        return lines

    edit_lines(directory, change)
    _, verdict = archive.verify_archive(directory)
    kinds = {(f.sequence, f.kind) for f in verdict.faults if f.sequence is not None}
    assert verdict.first_fault().sequence == 1 and (1, "sealed range") in kinds
    assert any(kind == "chain broken" for _, kind in kinds)


def test_a_dropped_event_is_named(exported):
    _, directory, _ = exported
    edit_lines(directory, lambda lines: lines[:4] + lines[5:])  # drop sequence 5
    _, verdict = archive.verify_archive(directory)
    first = verdict.first_fault()
    assert (first.sequence, first.kind) in {(5, "gap"), (5, "sealed range")}
    assert {(5, "gap"), (5, "sealed range")} <= {(f.sequence, f.kind) for f in verdict.faults}


def test_a_dropped_unsealed_last_event_shows_as_truncation(exported):
    _, directory, _ = exported
    edit_lines(directory, lambda lines: lines[:-1])
    _, verdict = archive.verify_archive(directory)
    assert (verdict.first_fault().sequence, verdict.first_fault().kind) == (13, "truncated")


def test_two_swapped_lines_are_both_named(exported):
    _, directory, _ = exported

    def swap(lines):
        lines[3], lines[8] = lines[8], lines[3]
        return lines

    edit_lines(directory, swap)
    _, verdict = archive.verify_archive(directory)
    reordered = {f.sequence for f in verdict.faults if f.kind == "reordered"}
    assert reordered and reordered <= {4, 9}
    assert verdict.first_fault().sequence == 4


def test_two_events_that_trade_sequences_are_named_by_the_seal(exported):
    """Lines stay in order but two events of different reports trade places: every chain
    still holds, only the seal can tell, and it names both sequences."""
    _, directory, _ = exported

    def trade(lines):
        a, b = json.loads(lines[0]), json.loads(lines[1])  # two reports' first events
        a["seq"], b["seq"] = 2, 1
        return [json.dumps(b, separators=(",", ":"), ensure_ascii=False).encode() + b"\n",
                json.dumps(a, separators=(",", ":"), ensure_ascii=False).encode() + b"\n", *lines[2:]]

    edit_lines(directory, trade)
    _, verdict = archive.verify_archive(directory)
    assert {(f.sequence, f.kind) for f in verdict.faults} >= {(1, "sealed range"), (2, "sealed range")}
    assert not [f for f in verdict.faults if f.kind == "chain broken"]


def test_a_truncated_archive_is_rejected_with_the_position(exported):
    _, directory, _ = exported
    path = directory / archive.EVENTS_FILE
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])  # the last line cut in half
    _, verdict = archive.verify_archive(directory)
    first = verdict.first_fault()
    assert first.kind == "truncated" and first.line == 13 and first.sequence == 13


def test_a_missing_manifest_means_an_unfinished_export(exported):
    _, directory, _ = exported
    (directory / archive.MANIFEST_FILE).unlink()
    with pytest.raises(archive.ArchiveError, match="did not finish"):
        archive.verify_archive(directory)


@pytest.fixture
def empty_broker(tmp_path):
    """A second nats-server with nothing in it: where an auditor restores an archive."""
    server = NatsServer(tmp_path / "restore").start()
    try:
        yield server.url
    finally:
        server.stop()


def test_import_into_an_empty_broker_restores_the_log_byte_for_byte(exported, empty_broker):
    log, directory, manifest = exported

    async def run():
        production, restored = await nats.connect(log.url), await nats.connect(empty_broker)
        try:
            stored = await archive.import_archive(restored, directory, log.stream)
            original = [m async for batch in read_stream(production, log.stream) for m in batch]
            copy = [m async for batch in read_stream(restored, log.stream) for m in batch]
            with pytest.raises(archive.ArchiveError, match="already holds"):
                await archive.import_archive(restored, directory, log.stream)
            return stored, original, copy
        finally:
            await production.close()
            await restored.close()

    stored, original, copy = asyncio.run(run())
    assert stored == manifest["events"] == len(copy)
    assert [(m.sequence, m.subject, m.data) for m in copy] == [(m.sequence, m.subject, m.data) for m in original]


def test_a_tampered_archive_is_never_imported(exported, empty_broker, tmp_path):
    log, directory, _ = exported
    tampered = tmp_path / "tampered"
    shutil.copytree(directory, tampered)
    edit_lines(tampered, lambda lines: lines[:4] + lines[5:])  # drop sequence 5

    async def run():
        connection = await nats.connect(empty_broker)
        try:
            with pytest.raises(archive.ArchiveError, match="sequence 5"):
                await archive.import_archive(connection, tampered, log.stream)
            with pytest.raises(nats.js.errors.NotFoundError):
                await connection.jetstream().stream_info(log.stream)
        finally:
            await connection.close()

    asyncio.run(run())
