"""What one audit command does against the log, with plain results and no terminal.

An ``AuditSession`` is the live log a command works on (broker, stream, credentials):
each of its methods opens a connection, does one piece of work and closes it. The
command line (``hazardloop audit``) parses options, calls these and renders the
results; what is rebuilt is given by the caller, so auditing never imports a service.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from nats.aio.client import Client
from sqlalchemy import create_engine

from hazardloop.audit.archive import Progress, export_archive, import_archive, read_manifest
from hazardloop.audit.group import GroupVerifier
from hazardloop.audit.ledger import Ledger
from hazardloop.audit.replay import (
    RebuildAll,
    Source,
    TableDiff,
    archive_sequence_as_of,
    checkpoint_of,
    diff_stores,
    rebuild_all,
    store_url,
)
from hazardloop.audit.seal import SealResult, seal_log
from hazardloop.audit.seal_status import SealStatus, seal_status
from hazardloop.audit.source import connect, format_time, last_sequence, parse_headers, read_stream, sequence_as_of
from hazardloop.audit.verify import Verdict, Verifier
from hazardloop.events import Event
from hazardloop.log.eventstore import EventStore, EventStoreUnavailable, Subjects
from hazardloop.log.reader import read_log
from hazardloop.privacy.keyring import KeyUnavailable
from hazardloop.privacy.sealing import TextVault, withheld
from hazardloop.runtime.settings import CommonSettings
from hazardloop.web.labels import label

if TYPE_CHECKING:
    from hazardloop.runtime.service import ProjectionFactory

T = TypeVar("T")


@dataclass(frozen=True)
class ReplayPlan:
    """What a replay rebuilds, from where, up to which sequence, and against which stores."""

    source: Source
    target: int
    """The sequence the replay shows the state as of: the one asked for, or the log's last."""
    limits: dict[str, int | None]
    """service -> the last sequence to rebuild it to."""
    compare: dict[str, str] = field(default_factory=dict)
    """service -> the store its rebuilt one is compared with."""
    against: Path | None = None
    """The folder of snapshot stores compared with, if not the live ones."""


@dataclass(frozen=True)
class Replayed:
    rebuild: RebuildAll
    differences: dict[str, list[TableDiff]]
    """For each service compared, the tables that differ (none: identical)."""


@dataclass(frozen=True)
class AuditSession:
    """The live log an audit command works on: its broker, stream and credentials."""

    settings: CommonSettings
    creds: Path | None = None

    @classmethod
    def of(cls, nats_url: str | None = None, stream: str | None = None, creds: Path | None = None) -> AuditSession:
        """The settings of the environment, with the broker and stream named on the command line."""
        overrides: dict[str, Any] = {}
        if nats_url:
            overrides["nats_url"] = nats_url
        if stream:
            overrides["stream_name"] = stream
        return cls(CommonSettings(**overrides), creds)

    def run(self, work: Callable[[Client], Awaitable[T]]) -> T:
        """Connect, do ``work`` and close the connection, whatever happens."""

        async def connected() -> T:
            nc = await connect(
                self.settings.nats_servers, timeout=self.settings.nats_timeout, creds=str(self.creds) if self.creds else None
            )
            try:
                return await work(nc)
            finally:
                await nc.close()

        return asyncio.run(connected())

    def verify(self, *, progress: Progress | None = None) -> Verdict:
        """Every hash, chain and seal of the live log, up to its last message when asked."""
        stream = self.settings.stream_name

        async def check(nc: Client) -> Verdict:
            config = (await nc.jetstream().stream_info(stream)).config
            # The hub's group stream: each message is proved at its site's own sequence.
            verifier = GroupVerifier() if config.sources and not config.subjects else Verifier()
            end = await last_sequence(nc, stream)
            async for batch in read_stream(nc, stream, until=end):
                for m in batch:
                    verifier.feed(m.sequence, m.subject, m.data, headers=parse_headers(m.headers))
                if progress:
                    progress(batch[-1].sequence if batch else end, end)
            return verifier.finish() if isinstance(verifier, GroupVerifier) else verifier.finish(expected_last=end)

        return self.run(check)

    def seal(self) -> SealResult:
        """Seal every message not sealed yet: the one audit work that appends (operators only)."""
        settings = self.settings

        async def sealed(nc: Client) -> SealResult:
            store = EventStore(nc, stream=settings.stream_name, subjects=Subjects(settings.subject_prefix),
                               source="hazardloop/audit", timeout=10.0, topology=settings.topology)  # fmt: skip
            return await seal_log(nc, store)

        return self.run(sealed)

    def seal_status(self, now: datetime) -> SealStatus:
        """How far the log is sealed and since when, as of ``now`` (reads only)."""
        settings = self.settings

        async def status(nc: Client) -> SealStatus:
            store = EventStore(nc, stream=settings.stream_name, subjects=Subjects(settings.subject_prefix))
            return await seal_status(nc, store, now=now)

        return self.run(status)

    def export(self, directory: Path, *, progress: Progress | None = None) -> dict[str, Any]:
        """Write the whole log to an archive in ``directory``; its manifest."""
        return self.run(lambda nc: export_archive(nc, self.settings.stream_name, directory, progress=progress))

    def restore(self, directory: Path, stream: str, *, progress: Progress | None = None) -> int:
        """Re-store a verified archive into ``stream``, which must be empty; the messages stored."""
        return self.run(lambda nc: import_archive(nc, directory, stream, progress=progress))

    def events(self, types: Collection[str]) -> list[tuple[int, Event]]:
        """(sequence, event) of ``types`` in the live log, oldest first."""
        subjects = Subjects(self.settings.subject_prefix)

        async def read(nc: Client) -> list[tuple[int, Event]]:
            return [item async for item in read_log(nc, self.settings.stream_name, [subjects.of_type(t) for t in types])]

        return self.run(read)

    def situations(self, book: Ledger, lang: str) -> list[str]:
        """The reporters' own words of ``book``, opened where this tool holds the subsidiary's
        master key and can read the text keys (an operator on the broker); else withheld."""
        settings = self.settings
        if settings.keys.holds_master(book.tenant):

            async def opened(nc: Client) -> list[str]:
                vault = TextVault(nc.jetstream(timeout=settings.nats_timeout), settings.keys.master_keys, bucket=settings.bucket("text-keys"))
                await vault.ensure(create=False)
                return await vault.reveal([row.situation for row in book.rows], erased=label("erased_text", lang))

            try:
                return self.run(opened)
            except (KeyUnavailable, EventStoreUnavailable):
                pass
        return withheld_situations(book, lang)

    def plan_replay(
        self,
        services: list[str],
        *,
        archive: Path | None = None,
        until_sequence: int | None = None,
        moment: datetime | None = None,
        against: Path | None = None,
        live_store: Callable[[str], str],
    ) -> ReplayPlan:
        """Where to read (``archive`` or the live log), up to where, and what to compare with.

        With no point in time and no snapshot folder (``against``), each service is rebuilt
        to its live store's checkpoint (``live_store(service)`` names the store) and
        compared with it: on a healthy system they are identical.
        """
        settings = self.settings
        if archive is not None:
            manifest = read_manifest(archive)
            source = Source(manifest["stream"], manifest["subject_prefix"], archive=archive)
            end = int(manifest["last_sequence"])
            if moment is not None:
                until_sequence = archive_sequence_as_of(archive, format_time(moment))
        else:
            source = Source(settings.stream_name, settings.subject_prefix, servers=tuple(settings.nats_servers),
                            creds=str(self.creds) if self.creds else None, timeout=max(settings.nats_timeout, 5.0))  # fmt: skip

            async def locate(nc: Client) -> tuple[int, int | None]:
                end = await last_sequence(nc, settings.stream_name)
                return end, await sequence_as_of(nc, settings.stream_name, moment) if moment else None

            end, at = self.run(locate)
            until_sequence = at if moment is not None else until_sequence
        compare: dict[str, str] = {}
        if against is not None:
            compare = {name: store_url(against, name) for name in services}
        elif until_sequence is None:
            compare = {name: live_store(name) for name in services}
        limits: dict[str, int | None] = {}
        for name in services:
            if until_sequence is not None:
                limits[name] = until_sequence
            elif name in compare and against is None:
                engine = create_engine(compare[name])
                limits[name] = min(checkpoint_of(engine), end)
                engine.dispose()
            else:
                limits[name] = end
        target = until_sequence if until_sequence is not None else end
        return ReplayPlan(source, target, limits, compare, against)


def withheld_situations(book: Ledger, lang: str) -> list[str]:
    """The reporters' words as an auditor's ledger shows them: sealed texts withheld."""
    return [withheld(row.situation, label("sealed_text", lang)) for row in book.rows]


def replay(
    plan: ReplayPlan,
    into: Path,
    projections: Mapping[str, ProjectionFactory],
    *,
    progress: Callable[[str, int], None] | None = None,
) -> Replayed:
    """Rebuild the planned services (each by its function in ``projections``) into stores in
    ``into`` and compare each with its store in the plan; an archive that fails
    verification compares nothing."""
    rebuild = rebuild_all(plan.source, into, plan.limits, projections=projections, progress=progress)
    differences: dict[str, list[TableDiff]] = {}
    if rebuild.archive_fault is None:
        for rebuilt in rebuild.rebuilt:
            if rebuilt.service in plan.compare:
                metadata = projections[rebuilt.service](None).metadata  # type: ignore[arg-type]
                diffs = diff_stores(metadata, plan.compare[rebuilt.service], rebuilt.url)
                differences[rebuilt.service] = [d for d in diffs if not d.identical]
    return Replayed(rebuild, differences)
