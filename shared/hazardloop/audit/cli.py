"""``hazardloop audit``: what an auditor runs, with read-only access to the log.

verify, replay, ledger, export and reconcile only read (the live stream through named
consumers, or an archive offline). ``import`` writes only into the broker and stream
it is explicitly given, and only when that stream is empty. ``seal`` is the one
command that appends to the production log: it is the operators', not the auditors'.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hazardloop.tools.registry import SERVICES, app_module
from hazardloop.runtime.settings import CommonSettings

audit = typer.Typer(
    help="Prove the whole history from the log alone: verify, replay, ledger, export/import, reconcile.",
    no_args_is_help=True,
)
console = Console()
T = TypeVar("T")

ArchiveOption = Annotated[
    Path | None, typer.Option("--archive", help="Read this exported archive (offline) instead of the live stream.")
]
UrlOption = Annotated[
    str | None,
    typer.Option("--nats-url", help="Broker (default: NATS_URL); read-only credentials go in the URL: nats://auditor:PASS@host:4222"),
]
CredsOption = Annotated[Path | None, typer.Option("--creds", help="NATS credentials file (user JWT and seed).")]
StreamOption = Annotated[str | None, typer.Option("--stream", help="Stream (default: HAZARDLOOP_STREAM_NAME).")]


def _settings(nats_url: str | None, stream: str | None) -> CommonSettings:
    overrides: dict[str, Any] = {}
    if nats_url:
        overrides["nats_url"] = nats_url
    if stream:
        overrides["stream_name"] = stream
    return CommonSettings(**overrides)


def _with_connection(settings: CommonSettings, creds: Path | None, work: Callable[[Any], Awaitable[T]]) -> T:
    from hazardloop.audit.source import connect

    async def run() -> T:
        nc = await connect(settings.nats_servers, timeout=settings.nats_timeout, creds=str(creds) if creds else None)
        try:
            return await work(nc)
        finally:
            await nc.close()

    return asyncio.run(run())


@contextmanager
def _bar(description: str):
    """A progress bar for long work; yields ``update(done, total)``."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:  # fmt: skip
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total or None)

        yield update


def _moment(text: str | None) -> datetime | None:
    """An ISO time or date; a bare date means the end of that day, UTC offset if none given."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO date or time: {text}") from exc
    if len(text) == 10:  # a date: the state as of the end of that day
        moment = moment + timedelta(days=1) - timedelta(microseconds=1)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _faults_table(verdict) -> Table:
    from hazardloop.audit.archive import where

    view = Table("position", "fault", "detail", title=f"{len(verdict.faults)} faults")
    for fault in verdict.faults[:200]:
        view.add_row(where(fault), fault.kind, fault.detail)
    return view


def _summary(verdict, title: str) -> Table:
    view = Table("", "", title=title, show_header=False)
    view.add_row("messages read", f"{verdict.events:,}")
    view.add_row("last sequence", f"{verdict.last_sequence:,}")
    view.add_row("seals", f"{verdict.seals:,}, covering 1..{verdict.sealed_through:,}")
    view.add_row("not yet sealed", f"{verdict.unsealed:,} (chained per aggregate only)")
    view.add_row("head seal", verdict.head_seal or "-")
    return view


@audit.command()
def verify(archive: ArchiveOption = None, nats_url: UrlOption = None, creds: CredsOption = None, stream: StreamOption = None) -> None:
    """Check every event's hash, every aggregate's chain and every seal; name the sequence of each fault."""
    from hazardloop.audit.archive import ArchiveError, verify_archive
    from hazardloop.audit.source import last_sequence, parse_headers, read_stream
    from hazardloop.audit.verify import Verifier

    if archive is not None:
        try:
            with _bar("verifying the archive") as update:
                _, verdict = verify_archive(archive, progress=update)
        except ArchiveError as exc:
            console.print(f"[red]rejected:[/red] {exc}")
            raise typer.Exit(1) from None
    else:
        settings = _settings(nats_url, stream)

        async def check(nc):
            verifier = Verifier()
            end = await last_sequence(nc, settings.stream_name)
            with _bar("verifying the log") as update:
                async for batch in read_stream(nc, settings.stream_name, until=end):
                    for m in batch:
                        verifier.feed(m.sequence, m.subject, m.data, headers=parse_headers(m.headers))
                    update(batch[-1].sequence if batch else end, end)
            return verifier.finish(expected_last=end)

        verdict = _with_connection(settings, creds, check)
    console.print(_summary(verdict, f"verify {archive or 'the live log'}"))
    if verdict.ok:
        console.print(f"[green]OK[/green]: {verdict.events:,} messages, every hash, chain and seal intact")
        return
    console.print(_faults_table(verdict))
    first = verdict.first_fault()
    console.print(f"[red]ALTERED[/red]: first fault at sequence {first.sequence}: {first.kind}")
    raise typer.Exit(1)


@audit.command()
def seal(nats_url: UrlOption = None, creds: CredsOption = None, stream: StreamOption = None) -> None:
    """(Operators) Append seals committing to every message not sealed yet. Needs append rights."""
    from hazardloop.audit.seal import UnsealableError, seal_log
    from hazardloop.log.eventstore import ConcurrencyError, EventStore, Subjects

    settings = _settings(nats_url, stream)

    async def run(nc):
        store = EventStore(nc, stream=settings.stream_name, subjects=Subjects(settings.subject_prefix), source="hazardloop/audit", timeout=10.0)
        return await seal_log(nc, store)

    try:
        result = _with_connection(settings, creds, run)
    except UnsealableError as exc:
        console.print(f"[red]not sealed:[/red] {exc}; run `hazardloop audit verify`")
        raise typer.Exit(1) from None
    except ConcurrencyError:
        console.print("[yellow]another sealer sealed meanwhile[/yellow]: nothing lost; run it again to seal what is left")
        raise typer.Exit(1) from None
    for item in result.seals:
        console.print(f"sealed {item.first_sequence:,}..{item.last_sequence:,} ({item.count:,} messages): {item.hash}")
    console.print(f"the log is sealed through sequence {result.sealed_through:,}" if result.seals else "nothing new to seal")


@audit.command("export")
def export_command(
    directory: Annotated[Path, typer.Argument(help="New or empty folder for events.jsonl and manifest.json.")],
    nats_url: UrlOption = None, creds: CredsOption = None, stream: StreamOption = None,
) -> None:
    """Write the whole log to an offline archive (JSON Lines + manifest), verifying it on the way."""
    from hazardloop.audit.archive import ArchiveError, export_archive, manifest_digest

    settings = _settings(nats_url, stream)

    async def run(nc):
        with _bar("exporting") as update:
            return await export_archive(nc, settings.stream_name, directory, progress=update)

    try:
        manifest = _with_connection(settings, creds, run)
    except ArchiveError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    view = Table("type", "messages", title=f"archive {directory}: {manifest['events']:,} messages, sequences 1..{manifest['last_sequence']:,}")
    for kind, count in manifest["types"].items():
        view.add_row(kind, f"{count:,}")
    console.print(view)
    console.print(f"events.jsonl sha256 {manifest['events_sha256']}")
    console.print(f"manifest sha256 {manifest_digest(directory)}  (note it: it identifies this archive)")
    if not manifest["verified"]:
        console.print(f"[red]the log did not verify[/red]: {len(manifest['faults'])} faults, listed in the manifest")
        raise typer.Exit(1)


@audit.command("import")
def import_command(
    directory: Annotated[Path, typer.Argument(help="An archive folder.")],
    nats_url: Annotated[str, typer.Option("--nats-url", help="The (empty) broker to restore into; never defaulted.")],
    stream: Annotated[str, typer.Option("--stream", help="The stream to create there; must not hold anything.")] = "HAZARDLOOP",
    creds: CredsOption = None,
) -> None:
    """Verify an archive, then re-store it into an empty stream, every message at its sequence."""
    from hazardloop.audit.archive import ArchiveError, import_archive

    settings = _settings(nats_url, stream)

    async def run(nc):
        with _bar("importing") as update:
            return await import_archive(nc, directory, stream, progress=update)

    try:
        stored = _with_connection(settings, creds, run)
    except ArchiveError as exc:
        console.print(f"[red]rejected:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(f"imported {stored:,} messages into {stream} at {nats_url}")


def _live_store(service: str) -> str:
    module = app_module(service)
    settings = module.Settings()
    return settings.database_url_for(service, settings.database_url)


@audit.command()
def replay(
    archive: ArchiveOption = None,
    until_sequence: Annotated[int | None, typer.Option(help="The state as of this stream sequence.")] = None,
    as_of: Annotated[str | None, typer.Option(help="The state as of this time (ISO; a date means its end).")] = None,
    into: Annotated[Path | None, typer.Option(help="Folder for the rebuilt SQLite stores (default: a new temporary one).")] = None,
    against: Annotated[Path | None, typer.Option(help="Compare with the <service>.db stores in this folder instead of the live stores.")] = None,
    service: Annotated[list[str] | None, typer.Option(help="Only this service; repeat for several.")] = None,
    nats_url: UrlOption = None, creds: CredsOption = None, stream: StreamOption = None,
) -> None:
    """Rebuild every service's projections into fresh stores and compare them.

    With no point in time, each is rebuilt to its live store's checkpoint and compared
    with the live store: on a healthy system they are identical.
    """
    from hazardloop.audit.archive import read_manifest
    from hazardloop.audit.replay import Source, archive_sequence_as_of, checkpoint_of, diff_stores, rebuild_all, store_url
    from hazardloop.audit.source import format_time, last_sequence, sequence_as_of
    from sqlalchemy import create_engine

    services = service or list(SERVICES)
    if unknown := set(services) - set(SERVICES):
        raise typer.BadParameter(f"unknown service {', '.join(sorted(unknown))}")
    if until_sequence is not None and as_of is not None:
        raise typer.BadParameter("give --until-sequence or --as-of, not both")
    settings = _settings(nats_url, stream)
    moment = _moment(as_of)
    if archive is not None:
        manifest = read_manifest(archive)
        source = Source(manifest["stream"], manifest["subject_prefix"], archive=archive)
        end = int(manifest["last_sequence"])
        if moment is not None:
            until_sequence = archive_sequence_as_of(archive, format_time(moment))
    else:
        source = Source(settings.stream_name, settings.subject_prefix, servers=tuple(settings.nats_servers),
                        creds=str(creds) if creds else None, timeout=max(settings.nats_timeout, 5.0))

        async def locate(nc):
            return await last_sequence(nc, settings.stream_name), await sequence_as_of(nc, settings.stream_name, moment) if moment else None

        end, at = _with_connection(settings, creds, locate)
        until_sequence = at if moment is not None else until_sequence
    compare: dict[str, str] = {}
    if against is not None:
        compare = {name: store_url(against, name) for name in services}
    elif until_sequence is None:
        compare = {name: _live_store(name) for name in services}
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
    into = into or Path(tempfile.mkdtemp(prefix="hazardloop-replay-"))
    target = until_sequence if until_sequence is not None else end
    with Progress(TextColumn("{task.description:>14}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:  # fmt: skip
        tasks = {name: progress.add_task(name, total=limits[name] or None) for name in services}
        result = rebuild_all(source, into, limits, progress=lambda name, at: progress.update(tasks[name], completed=at))
    if result.archive_fault is not None:
        console.print(f"[red]rejected:[/red] the archive failed verification at {result.archive_fault}")
        raise typer.Exit(1)
    view = Table("service", "events applied", "through sequence", "seconds", "events/s", "compared with", "result",
                 title=f"replay of {archive or 'the live log'} into {into}" + (f", as of {moment.isoformat()}" if moment else ""))
    differences = []
    for rebuilt in result.rebuilt:
        verdict = "-"
        if rebuilt.service in compare:
            diffs = [d for d in diff_stores(rebuilt.service, compare[rebuilt.service], rebuilt.url) if not d.identical]
            differences += [(rebuilt.service, d) for d in diffs]
            verdict = "[green]identical[/green]" if not diffs else f"[red]{len(diffs)} tables differ[/red]"
        rate = rebuilt.applied / rebuilt.seconds if rebuilt.seconds else 0.0
        view.add_row(rebuilt.service, f"{rebuilt.applied:,}", f"{rebuilt.position:,}", f"{rebuilt.seconds:.2f}",
                     f"{rate:,.0f}", "snapshot" if against else ("live store" if rebuilt.service in compare else "-"), verdict)
    console.print(view)
    total = sum(r.applied for r in result.rebuilt)
    console.print(f"log through sequence {target:,}; {total:,} events applied in {result.seconds:.2f}s "
                  f"({total / max(result.seconds, 1e-9):,.0f} events/s across {len(services)} projections)")
    if differences:
        diff_view = Table("service", "table", "left rows", "replayed rows", "only left", "only replayed", "differing", "examples", title="differences")
        for name, d in differences:
            diff_view.add_row(name, d.table, str(d.left_rows), str(d.right_rows), str(d.only_left), str(d.only_right), str(d.differing), "; ".join(d.examples))
        console.print(diff_view)
        raise typer.Exit(1)


def _events(archive: Path | None, settings: CommonSettings, creds: Path | None, types, until: int | None = None):
    """(sequence, event) of ``types`` from an archive (verified first) or the live log."""
    from hazardloop.audit.archive import ArchiveError, archive_events, require_intact
    from hazardloop.log.eventstore import Subjects
    from hazardloop.log.reader import read_log

    if archive is not None:
        try:
            with _bar("verifying the archive") as update:
                manifest = require_intact(archive, progress=update)
        except ArchiveError as exc:
            console.print(f"[red]rejected:[/red] {exc}")
            raise typer.Exit(1) from None
        return list(archive_events(archive, set(types), until=until)), manifest
    subjects = Subjects(settings.subject_prefix)

    async def read(nc):
        return [item async for item in read_log(nc, settings.stream_name, [subjects.of_type(t) for t in types], until=until)]

    return _with_connection(settings, creds, read), None


def _period(period: str | None, since: str | None, until: str | None, zone: ZoneInfo) -> tuple[datetime | None, datetime | None, str]:
    """``2026``, ``2026-06``, ``2026-Q2`` (in the subsidiary's time zone), or since/until dates."""
    if period is None:
        start = datetime.combine(date.fromisoformat(since), datetime.min.time(), zone) if since else None
        end = datetime.combine(date.fromisoformat(until), datetime.min.time(), zone) + timedelta(days=1) if until else None
        return start, end, f"{since or 'start'}..{until or 'now'}"
    try:
        year, _, rest = period.partition("-")
        if not rest:
            first, months = 1, 12
        elif rest.upper().startswith("Q"):
            first, months = 3 * int(rest[1:]) - 2, 3
        else:
            first, months = int(rest), 1
        start = datetime(int(year), first, 1, tzinfo=zone)
    except ValueError as exc:
        raise typer.BadParameter(f"a period is 2026, 2026-06 or 2026-Q2, not {period}") from exc
    after = first - 1 + months
    return start, datetime(int(year) + after // 12, after % 12 + 1, 1, tzinfo=zone), period


def _ledger_language(value: str) -> str:
    if value not in ("zh-CN", "en"):
        raise typer.BadParameter(f"zh-CN or en, not {value!r}")
    return value


@audit.command()
def ledger(
    tenant: Annotated[str, typer.Option(help="The subsidiary.")],
    period: Annotated[str | None, typer.Option(help="2026, 2026-06 or 2026-Q2: reports filed then (subsidiary time).")] = None,
    since: Annotated[str | None, typer.Option(help="Reports filed on or after this date.")] = None,
    until: Annotated[str | None, typer.Option(help="Reports filed on or before this date.")] = None,
    csv_path: Annotated[Path | None, typer.Option("--csv", help="CSV to write (default: ledger-<tenant>-<period>.csv).")] = None,
    xlsx_path: Annotated[Path | None, typer.Option("--xlsx", help="Workbook to write (default: ledger-<tenant>-<period>.xlsx).")] = None,
    lang: Annotated[str, typer.Option("--lang", callback=_ledger_language, help="Language of headers and names: zh-CN or en.")] = "zh-CN",
    archive: ArchiveOption = None, nats_url: UrlOption = None, creds: CredsOption = None, stream: StreamOption = None,
) -> None:
    """The hazard ledger of a subsidiary and period, built from the log alone, as CSV and XLSX."""
    from hazardloop.audit.ledger import LEDGER_TYPES, build_ledger
    from hazardloop.timing.instants import in_zone
    from hazardloop.web.labels import label
    from hazardloop.exports.ledger import COLUMNS, ledger_csv, ledger_xlsx

    settings = _settings(nats_url, stream)
    log, _ = _events(archive, settings, creds, LEDGER_TYPES)
    book = build_ledger(log, tenant)
    start, end, period_name = _period(period, since, until, book.zone)
    book.rows = [row for row in book.rows if (start is None or row.reported_at >= start) and (end is None or row.reported_at < end)]
    for row, situation in zip(book.rows, _situations(book, settings, creds, archive, lang), strict=True):
        row.situation = situation
    stem = f"ledger-{tenant}-{period_name.replace('..', '_')}"
    csv_path, xlsx_path = csv_path or Path(f"{stem}.csv"), xlsx_path or Path(f"{stem}.xlsx")
    csv_path.write_bytes(ledger_csv(book, lang).encode())
    xlsx_path.write_bytes(ledger_xlsx(book, lang, title=f"{tenant} {period_name}"))
    view = Table("reported at", "place", "category", "grade", "status", "closed at", "reward", title=f"hazard ledger {tenant} {period_name} ({book.timezone})")
    for row in book.rows[:50]:
        closed = in_zone(row.closed_at, book.zone) if row.closed_at else None
        view.add_row(f"{in_zone(row.reported_at, book.zone):%Y-%m-%d %H:%M}", f"{row.site} / {row.area} / {row.spot}",
                     label(row.category, lang), label(row.grade or row.outcome, lang) or "-", label(row.status, lang),
                     f"{closed:%Y-%m-%d}" if closed else "-",
                     f"{row.reward_yuan:,.2f} ({label(row.reward_status, lang)})" if row.reward_yuan is not None else "-")
    console.print(view)
    console.print(f"{len(book.rows)} reports ({len(COLUMNS)} columns) from the log through sequence {book.through_sequence:,}: {csv_path}, {xlsx_path}")


def _situations(book: Any, settings: CommonSettings, creds: Path | None, archive: Path | None, lang: str) -> list[str]:
    """The reporters' own words, opened where this tool holds the subsidiary's master key and
    can read the text keys (an operator on the broker); an auditor's ledger withholds them."""
    from hazardloop.log.eventstore import EventStoreUnavailable
    from hazardloop.privacy.keyring import KeyUnavailable
    from hazardloop.web.labels import label
    from hazardloop.privacy.sealing import TextVault, withheld

    kept = [row.situation for row in book.rows]
    if archive is None and settings.keys.holds_master(book.tenant):

        async def opened(nc: Any) -> list[str]:
            vault = TextVault(nc.jetstream(timeout=settings.nats_timeout), settings.keys.master_keys, bucket=settings.bucket("text-keys"))
            await vault.ensure(create=False)
            return await vault.reveal(kept, erased=label("erased_text", lang))

        try:
            return _with_connection(settings, creds, opened)
        except (KeyUnavailable, EventStoreUnavailable):
            pass
    return [withheld(situation, label("sealed_text", lang)) for situation in kept]


@audit.command("reconcile")
def reconcile_command(
    as_of: Annotated[str | None, typer.Option(help="Judge deadlines as of this time (default: now; for an archive, its export).")] = None,
    archive: ArchiveOption = None, nats_url: UrlOption = None, creds: CredsOption = None, stream: StreamOption = None,
) -> None:
    """Every report acknowledged, fed back, verified, rectified or escalated in time, and
    rewarded or declined exactly once; prints each exception with its report id."""
    from hazardloop.audit.reconcile import RECONCILE_TYPES, reconcile_all

    settings = _settings(nats_url, stream)
    log, manifest = _events(archive, settings, creds, RECONCILE_TYPES)
    now = _moment(as_of) or (datetime.fromisoformat(manifest["exported_at"]) if manifest else datetime.now(UTC))
    findings = reconcile_all(log, now)
    if not findings:
        console.print(f"reconcile: {len(log):,} events read, as of {now.isoformat()}: no exceptions")
        return
    view = Table("exception", "tenant", "report", "sequence", "detail", title=f"reconcile: {len(findings)} exceptions as of {now.isoformat()}")
    for finding in findings:
        view.add_row(finding.kind, finding.tenant, finding.report_id, str(finding.sequence), finding.detail)
    console.print(view)
    raise typer.Exit(1)
