"""(d) An auditor's archive of 1,000,000 events rebuilt into every service's projections.

The archive is written the way ``hazardloop audit export`` writes it (one report's
filing, verification, rectification and paid reward after another, a seal every
10,000 messages) before any clock starts. The timed part is what ``hazardloop audit
replay --archive`` does: every projection rebuilt side by side, each in its own
process, while one more verifies every hash, chain and seal of the archive.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import tempfile
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

import bench
import hazardloop
from bench import fixtures
from bench.fixtures import lifecycle, reporters
from hazardloop.audit.archive import EVENTS_FILE, FORMAT, MANIFEST_FILE, VERSION, archive_line
from hazardloop.audit.replay import Source, rebuild_all
from hazardloop.audit.seal import commit, leaf
from hazardloop.events import GENESIS_HASH, MAX_SEAL_RANGE, SEAL_AGGREGATE_ID, SEAL_TENANT, RangeSealed, encode_event
from hazardloop.log.eventstore import Subjects, cloudevents_headers
from hazardloop.tools.registry import SERVICES, projection_factory

STREAM = "HAZARDLOOP"
CACHE_DIR = Path(bench.__file__).parent.parent / ".hazardloop" / "bench-archives"
"""Where generated archives are kept between runs (``make clean`` removes them)."""
GENERATOR_SOURCES = ("events", "audit", "log")
"""The project's packages whose code shapes an archive's bytes, hashed into its cache key."""


def generator_key(events: int, seed: int, *modules: Path) -> str:
    """A digest of a generator's parameters and of every source file that shapes its output
    (``modules`` of the bench, the fixtures, the event contracts, the archive and log
    formats), so that what is kept is reused only while it is byte for byte what a fresh
    run would make."""
    digest = hashlib.sha256(f"{events}:{seed}".encode())
    sources = [Path(__file__), Path(fixtures.__file__), *modules]
    sources += [source for name in GENERATOR_SOURCES for source in sorted((Path(hazardloop.__file__).parent / name).rglob("*.py"))]
    for source in sources:
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def cached_archive(directory: Path, events: int, *, cache: Path | None = CACHE_DIR, seed: int = 4) -> tuple[dict[str, Any], bool]:
    """The archive at ``directory``: linked from ``cache`` when an archive of the same key is
    there, else written (and kept in ``cache``). Returns its manifest and whether it was reused.

    Writing a million events takes over a minute, all of it building and hashing events
    that are the same in every run; the rebuild that is timed reads only the folder.
    """
    if cache is None:
        return write_archive(directory, events, seed=seed), False
    kept = cache / generator_key(events, seed)
    reused = (kept / MANIFEST_FILE).exists()
    if not reused:
        for stale in (entry for entry in cache.iterdir() if entry.is_dir()) if cache.exists() else ():
            shutil.rmtree(stale)  # an older key's: keep one archive, not one per edit
        partial = kept.with_name(kept.name + ".partial")
        write_archive(partial, events, seed=seed)
        partial.rename(kept)
    directory.mkdir(parents=True, exist_ok=True)
    for name in (EVENTS_FILE, MANIFEST_FILE):
        (directory / name).unlink(missing_ok=True)
        (directory / name).symlink_to((kept / name).resolve())
    return json.loads((kept / MANIFEST_FILE).read_text()), reused


def write_archive(directory: Path, events: int, *, seed: int = 4) -> dict[str, Any]:
    """An archive of ``events`` report events (plus its seals); returns its manifest."""
    directory.mkdir(parents=True, exist_ok=True)
    rng, subjects = random.Random(seed), Subjects()
    people = reporters(max(1, events // 80), rng)
    stored = datetime(2026, 1, 1, tzinfo=UTC)
    digest, size, types, tenants = hashlib.sha256(), 0, Counter(), Counter()
    sequence, leaves, seal_hash = 0, [], GENESIS_HASH
    with (directory / EVENTS_FILE).open("wb") as out:

        def store(event) -> None:
            nonlocal sequence, size, stored
            sequence += 1
            stored += timedelta(milliseconds=30)
            subject, data = subjects.of(event), encode_event(event)
            headers = {"Nats-Msg-Id": str(event.event_id), **cloudevents_headers(event, "hazardloop/bench")}
            stamp = int(stored.timestamp() * 1e9)
            line = archive_line(sequence, stamp, subject, headers, data, True)
            out.write(line)
            digest.update(line)
            size += len(line)
            types[event.type] += 1
            tenants[event.tenant] += 1
            leaves.append(leaf(sequence, subject, event.hash))

        written = 0
        while written < events:
            now = stored
            for event in lifecycle(rng, rng.choice(people), now).stages[: events - written]:
                store(event)
                written += 1
                if len(leaves) == MAX_SEAL_RANGE:
                    seal_digest, marks = commit(leaves)
                    seal = RangeSealed.record(
                        prev_hash=seal_hash, tenant=SEAL_TENANT, aggregate_id=SEAL_AGGREGATE_ID, actor="system:sealer",
                        first_sequence=sequence - len(leaves) + 1, last_sequence=sequence, count=len(leaves),
                        digest=seal_digest, marks=marks,
                    )
                    leaves.clear()
                    store(seal)
                    seal_hash = seal.hash
    manifest = {
        "format": FORMAT, "version": VERSION, "stream": STREAM, "subject_prefix": subjects.prefix,
        "exported_at": stored.isoformat(), "first_sequence": 1, "last_sequence": sequence, "events": sequence,
        "types": dict(sorted(types.items())), "tenants": dict(sorted(tenants.items())), "events_file": EVENTS_FILE,
        "events_bytes": size, "events_sha256": digest.hexdigest(), "verified": True, "faults": [],
    }  # fmt: skip
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def measure(directory: Path, into: Path, services: Sequence[str] = SERVICES) -> dict[str, Any]:
    """Rebuild the ``services``' projections (every one by default) from the archive, verified
    alongside; check the stores."""
    manifest = json.loads((directory / MANIFEST_FILE).read_text())
    result = rebuild_all(Source(STREAM, "hazard", archive=directory), into, {service: None for service in services},
                         projections={service: projection_factory(service) for service in services})
    reports = manifest["types"].get("ReportFiled", 0)
    checks = {  # every report, complete: a fast but partial rebuild cannot pass
        "intake": ("SELECT count(*) FROM intake_reports WHERE reward_fen IS NOT NULL", reports),
        "notifications": ("SELECT count(*) FROM notification_inbox", 4 * reports),
        "verification": ("SELECT count(*) FROM verification_cases", reports),
        "rewards": ("SELECT count(*) FROM reward_reports", reports),
        "console": ("SELECT count(*) FROM console_cases", reports),
    }
    problems = [] if result.archive_fault is None else [f"archive did not verify: {result.archive_fault}"]
    for rebuilt in result.rebuilt:
        query, expected = checks[rebuilt.service]
        engine = create_engine(rebuilt.url)
        with engine.connect() as db:
            found = db.execute(text(query)).scalar()
        engine.dispose()
        if found != expected:
            problems.append(f"{rebuilt.service}: {query} -> {found}, expected {expected}")
    total = manifest["events"]
    return {
        "events": total,
        "archive_bytes": manifest["events_bytes"],
        "seconds": result.seconds,
        "events_per_second": total / result.seconds,
        "projections": {r.service: {"applied": r.applied, "seconds": r.seconds, "position": r.position} for r in result.rebuilt},
        "ok": not problems,
        "problems": problems,
    }


def main() -> None:
    """(d) alone, smaller or for some services only: ``python -m bench.archive --events 200000 --service console``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--service", action="append", choices=SERVICES, help="Rebuild only this one (repeatable).")
    parser.add_argument("--archive", type=Path, help="A folder to keep the archive in, and to reuse it from if it holds one.")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hazardloop-archive-bench-") as tmp:
        directory = options.archive or Path(tmp) / "archive"
        if not (directory / MANIFEST_FILE).exists():
            write_archive(directory, options.events)
        result = measure(directory, Path(tmp) / "stores", options.service or SERVICES)
    print(f"{result['events']:,} events rebuilt in {result['seconds']:.1f} s ({result['events_per_second']:,.0f}/s)")
    for service, figures in result["projections"].items():
        print(f"  {service:<14} {figures['applied']:>9,} events in {figures['seconds']:6.1f} s")
    for problem in result["problems"]:
        print(f"  problem: {problem}")


if __name__ == "__main__":
    main()
