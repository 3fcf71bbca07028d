"""``hazardloop audit``: what an auditor runs, with read-only access to the log.

verify, replay, figures, ledger, export and reconcile only read (the live stream through named
consumers, or an archive offline). ``import`` writes only into the broker and stream
it is explicitly given, and only when that stream is empty. ``seal`` is the one
command that appends to the production log: it is the operators', not the auditors'
(notifications also seals on a schedule); ``seal-status`` only reads.

The commands parse options, run ``hazardloop.audit`` and show its results
(``audit_report``); the services' stores and projections are found here, through the
registry, and handed to the audit code.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer

from hazardloop.tools import audit_report as report
from hazardloop.tools.registry import SERVICES, app_module, dashboard_figures, projection_factory

if TYPE_CHECKING:
    from hazardloop.audit.session import AuditSession

audit = typer.Typer(
    help="Prove the whole history from the log alone: verify, replay, ledger, export/import, reconcile.",
    no_args_is_help=True,
)

ArchiveOption = Annotated[
    Path | None, typer.Option("--archive", help="Read this exported archive (offline) instead of the live stream.")
]
UrlOption = Annotated[
    str | None,
    typer.Option("--nats-url", help="Broker (default: NATS_URL); read-only credentials go in the URL: nats://auditor:PASS@host:4222"),
]
CredsOption = Annotated[Path | None, typer.Option("--creds", help="NATS credentials file (user JWT and seed).")]
StreamOption = Annotated[str | None, typer.Option("--stream", help="Stream (default: HAZARDLOOP_STREAM_NAME).")]


def _session(nats_url: str | None, stream: str | None, creds: Path | None) -> AuditSession:
    from hazardloop.audit.session import AuditSession

    return AuditSession.of(nats_url, stream, creds)


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


@audit.command()
def verify(archive: ArchiveOption = None, nats_url: UrlOption = None, creds: CredsOption = None, stream: StreamOption = None) -> None:
    """Check every event's hash, every aggregate's chain and every seal; name the sequence of each fault."""
    from hazardloop.audit.archive import ArchiveError, verify_archive

    if archive is not None:
        try:
            with report.bar("verifying the archive") as update:
                _, verdict = verify_archive(archive, progress=update)
        except ArchiveError as exc:
            report.rejected(exc)
            raise typer.Exit(1) from None
    else:
        session = _session(nats_url, stream, creds)
        with report.bar("verifying the log") as update:
            verdict = session.verify(progress=update)
    report.show_verdict(verdict, f"verify {archive or 'the live log'}")
    if not verdict.ok:
        raise typer.Exit(1)


@audit.command()
def seal(nats_url: UrlOption = None, creds: CredsOption = None, stream: StreamOption = None) -> None:
    """(Operators) Append seals committing to every message not sealed yet. Needs append rights."""
    from hazardloop.audit.seal import UnsealableError
    from hazardloop.log.eventstore import ConcurrencyError

    try:
        result = _session(nats_url, stream, creds).seal()
    except UnsealableError as exc:
        report.console.print(f"[red]not sealed:[/red] {exc}; run `hazardloop audit verify`")
        raise typer.Exit(1) from None
    except ConcurrencyError:
        report.console.print("[yellow]another sealer sealed meanwhile[/yellow]: nothing lost; run it again to seal what is left")
        raise typer.Exit(1) from None
    report.show_seals(result)


@audit.command("seal-status")
def seal_status(
    stale_after: Annotated[int | None, typer.Option(
        help="Minutes events may wait for a seal before the status is stale (exit 1); "
             "default: twice HAZARDLOOP_SEAL_EVERY_MINUTES, or 120 without a schedule.", min=1)] = None,
    nats_url: UrlOption = None, creds: CredsOption = None, stream: StreamOption = None,
) -> None:
    """How far the log is sealed and since when; exits 1 when events have waited too long (for cron monitors)."""
    session = _session(nats_url, stream, creds)
    limit = timedelta(minutes=stale_after or 2 * session.settings.seal_every_minutes or 120)
    status = session.seal_status(datetime.now(UTC))
    report.show_seal_status(status, limit)
    if status.stale(limit):
        raise typer.Exit(1)


@audit.command("export")
def export_command(
    directory: Annotated[Path, typer.Argument(help="New or empty folder for events.jsonl and manifest.json.")],
    nats_url: UrlOption = None, creds: CredsOption = None, stream: StreamOption = None,
) -> None:
    """Write the whole log to an offline archive (JSON Lines + manifest), verifying it on the way."""
    from hazardloop.audit.archive import ArchiveError, manifest_digest

    try:
        with report.bar("exporting") as update:
            manifest = _session(nats_url, stream, creds).export(directory, progress=update)
    except ArchiveError as exc:
        report.console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    report.show_export(directory, manifest, manifest_digest(directory))
    if not manifest["verified"]:
        raise typer.Exit(1)


@audit.command("import")
def import_command(
    directory: Annotated[Path, typer.Argument(help="An archive folder.")],
    nats_url: Annotated[str, typer.Option("--nats-url", help="The (empty) broker to restore into; never defaulted.")],
    stream: Annotated[str, typer.Option("--stream", help="The stream to create there; must not hold anything.")] = "HAZARDLOOP",
    creds: CredsOption = None,
) -> None:
    """Verify an archive, then re-store it into an empty stream, every message at its sequence."""
    from hazardloop.audit.archive import ArchiveError

    try:
        with report.bar("importing") as update:
            stored = _session(nats_url, stream, creds).restore(directory, stream, progress=update)
    except ArchiveError as exc:
        report.rejected(exc)
        raise typer.Exit(1) from None
    report.console.print(f"imported {stored:,} messages into {stream} at {nats_url}")


def _live_store(service: str) -> str:
    settings = app_module(service).Settings()
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
    from hazardloop.audit.session import replay as replay_log

    services = service or list(SERVICES)
    if unknown := set(services) - set(SERVICES):
        raise typer.BadParameter(f"unknown service {', '.join(sorted(unknown))}")
    if until_sequence is not None and as_of is not None:
        raise typer.BadParameter("give --until-sequence or --as-of, not both")
    session = _session(nats_url, stream, creds)
    moment = _moment(as_of)
    plan = session.plan_replay(services, archive=archive, until_sequence=until_sequence, moment=moment, against=against,
                               live_store=_live_store)  # fmt: skip
    into = into or Path(tempfile.mkdtemp(prefix="hazardloop-replay-"))
    projections = {name: projection_factory(name) for name in services}
    with report.service_bars(plan.limits) as update:
        replayed = replay_log(plan, into, projections, progress=update)
    if replayed.rebuild.archive_fault is not None:
        report.rejected(f"the archive failed verification at {replayed.rebuild.archive_fault}")
        raise typer.Exit(1)
    report.show_replay(plan, replayed, origin=str(archive or "the live log"), into=into, moment=moment)
    if any(replayed.differences.values()):
        raise typer.Exit(1)


def _events(session: AuditSession, archive: Path | None, types: Any) -> tuple[list, dict[str, Any] | None]:
    """(sequence, event) of ``types`` from an archive (verified first) or the live log, and
    the archive's manifest."""
    from hazardloop.audit.archive import ArchiveError, archive_events, require_intact

    if archive is None:
        return session.events(types), None
    try:
        with report.bar("verifying the archive") as update:
            manifest = require_intact(archive, progress=update)
    except ArchiveError as exc:
        report.rejected(exc)
        raise typer.Exit(1) from None
    return list(archive_events(archive, set(types))), manifest


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
    from hazardloop.audit.session import withheld_situations
    from hazardloop.exports.ledger import COLUMNS, ledger_csv, ledger_xlsx

    session = _session(nats_url, stream, creds)
    log, _ = _events(session, archive, LEDGER_TYPES)
    book = build_ledger(log, tenant)
    start, end, period_name = _period(period, since, until, book.zone)
    book.rows = [row for row in book.rows if (start is None or row.reported_at >= start) and (end is None or row.reported_at < end)]
    # An auditor's archive never opens the reporters' words; the live log may, for an operator.
    situations = withheld_situations(book, lang) if archive is not None else session.situations(book, lang)
    for row, situation in zip(book.rows, situations, strict=True):
        row.situation = situation
    stem = f"ledger-{tenant}-{period_name.replace('..', '_')}"
    csv_path, xlsx_path = csv_path or Path(f"{stem}.csv"), xlsx_path or Path(f"{stem}.xlsx")
    csv_path.write_bytes(ledger_csv(book, lang).encode())
    xlsx_path.write_bytes(ledger_xlsx(book, lang, title=f"{tenant} {period_name}"))
    report.show_ledger(book, f"{tenant} {period_name}", lang, len(COLUMNS), [csv_path, xlsx_path])


@audit.command("reconcile")
def reconcile_command(
    as_of: Annotated[str | None, typer.Option(help="Judge deadlines as of this time (default: now; for an archive, its export).")] = None,
    archive: ArchiveOption = None, nats_url: UrlOption = None, creds: CredsOption = None, stream: StreamOption = None,
) -> None:
    """Every report acknowledged, fed back, verified, rectified or escalated in time, and
    rewarded or declined exactly once; prints each exception with its report id."""
    from hazardloop.audit.reconcile import RECONCILE_TYPES, reconcile_all

    log, manifest = _events(_session(nats_url, stream, creds), archive, RECONCILE_TYPES)
    now = _moment(as_of) or (datetime.fromisoformat(manifest["exported_at"]) if manifest else datetime.now(UTC))
    findings = reconcile_all(log, now)
    report.show_reconcile(findings, len(log), now)
    if findings:
        raise typer.Exit(1)


@audit.command("figures")
def figures_command(
    as_of: Annotated[str, typer.Option(help="last-month, last-quarter, last-year, a date (its end) or a time (to the second), "
                                            "in the group's time zone.")],
    tenant: Annotated[list[str] | None, typer.Option(help="Only this subsidiary; repeat for several (default: every one).")] = None,
    since: Annotated[str | None, typer.Option(help="Reports filed on or after this date (default: 13 weeks back).")] = None,
    until: Annotated[str | None, typer.Option(help="Reports filed on or before this date (default: the moment's day).")] = None,
    into: Annotated[Path | None, typer.Option(help="Folder for the replayed console store (default: a new temporary one).")] = None,
    archive: ArchiveOption = None, nats_url: UrlOption = None, creds: CredsOption = None, stream: StreamOption = None,
) -> None:
    """The group dashboard's figures as they stood at a moment, replayed from the log alone."""
    from hazardloop.audit.session import replay as replay_log
    from hazardloop.projections.db import create_store_engine
    from hazardloop.timing.asof import AsOfRefused, moment_of

    session = _session(nats_url, stream, creds)
    zone = ZoneInfo(session.settings.timezone)
    try:
        moment = moment_of(as_of, datetime.now(UTC), zone)
    except AsOfRefused as refused:
        raise typer.BadParameter(f"{as_of!r}: " + {"as_of_future": "that moment has not come yet"}.get(
            refused.reason, "give last-month, last-quarter, last-year, 2026-09-30 or 2026-09-30T18:00:00"), param_hint="--as-of") from None
    tenants = tenant or list(session.settings.tenants)
    try:
        last = date.fromisoformat(until) if until else moment.astimezone(zone).date()
        figures = dashboard_figures()
        first = date.fromisoformat(since) if since else figures.default_since(last)
    except ValueError as exc:
        raise typer.BadParameter(f"not a date: {exc}", param_hint="--since/--until") from None
    plan = session.plan_replay(["console"], archive=archive, moment=moment, live_store=_live_store)
    if plan.target == 0:
        report.rejected(f"{moment.isoformat()} is before the log's first event: there is nothing to show")
        raise typer.Exit(1)
    into = into or Path(tempfile.mkdtemp(prefix="hazardloop-figures-"))
    with report.service_bars(plan.limits) as update:
        replayed = replay_log(plan, into, {"console": projection_factory("console")}, progress=update)
    if replayed.rebuild.archive_fault is not None:
        report.rejected(f"the archive failed verification at {replayed.rebuild.archive_fault}")
        raise typer.Exit(1)
    engine = create_store_engine(replayed.rebuild.rebuilt[0].url)
    try:
        board = figures.dashboard(engine, figures.Scope(tenants, first, last, moment, zone))
    finally:
        engine.dispose()
    report.show_figures(board, moment=moment, zone=zone, sequence=plan.target, since=first, until=last,
                        origin=str(archive or "the live log"))
