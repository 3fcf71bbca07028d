"""How ``hazardloop audit`` shows its results on the terminal: tables, lines, progress bars."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from hazardloop.audit.archive import Progress as Advance
    from hazardloop.audit.ledger import Ledger
    from hazardloop.audit.payouts import Finding
    from hazardloop.audit.seal import SealResult
    from hazardloop.audit.seal_status import SealStatus
    from hazardloop.audit.session import Replayed, ReplayPlan
    from hazardloop.audit.verify import Verdict

console = Console()


@contextmanager
def bar(description: str) -> Iterator[Advance]:
    """A progress bar for long work; yields ``update(done, total)``."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:  # fmt: skip
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total or None)

        yield update


@contextmanager
def service_bars(limits: dict[str, int | None]) -> Iterator[Any]:
    """One progress bar per service; yields ``update(service, position)``."""
    with Progress(TextColumn("{task.description:>14}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:  # fmt: skip
        tasks = {name: progress.add_task(name, total=limit or None) for name, limit in limits.items()}
        yield lambda name, at: progress.update(tasks[name], completed=at)


def rejected(reason: object) -> None:
    console.print(f"[red]rejected:[/red] {reason}")


def show_verdict(verdict: Verdict, title: str) -> None:
    """The summary, then OK or every fault (up to 200) and the first one named."""
    from hazardloop.audit.archive import where

    summary = Table("", "", title=title, show_header=False)
    summary.add_row("messages read", f"{verdict.events:,}")
    summary.add_row("last sequence", f"{verdict.last_sequence:,}")
    summary.add_row("seals", f"{verdict.seals:,}, covering 1..{verdict.sealed_through:,}")
    summary.add_row("not yet sealed", f"{verdict.unsealed:,} (chained per aggregate only)")
    summary.add_row("head seal", verdict.head_seal or "-")
    console.print(summary)
    if verdict.ok:
        console.print(f"[green]OK[/green]: {verdict.events:,} messages, every hash, chain and seal intact")
        return
    faults = Table("position", "fault", "detail", title=f"{len(verdict.faults)} faults")
    for fault in verdict.faults[:200]:
        faults.add_row(where(fault), fault.kind, fault.detail)
    console.print(faults)
    first = verdict.first_fault()
    console.print(f"[red]ALTERED[/red]: first fault at sequence {first.sequence}: {first.kind}")


def show_seals(result: SealResult) -> None:
    for item in result.seals:
        console.print(f"sealed {item.first_sequence:,}..{item.last_sequence:,} ({item.count:,} messages): {item.hash}")
    console.print(f"the log is sealed through sequence {result.sealed_through:,}" if result.seals else "nothing new to seal")


def show_seal_status(status: SealStatus, stale_after: timedelta) -> None:
    """Sealed through where, how many events wait, since when; and whether that is stale."""
    console.print(f"sealed through sequence {status.sealed_through:,} of {status.last_sequence:,}; "
                  f"{status.unsealed_events:,} events not sealed yet (seals not counted)")  # fmt: skip
    age = timedelta(seconds=round(status.age_seconds))
    if status.sealed_through:
        console.print(f"last seal made {age} ago ({status.since:%Y-%m-%d %H:%M:%S %Z})")
    elif status.since is not None:
        console.print(f"never sealed: the first event was made {age} ago")
    if status.stale(stale_after):
        console.print(f"[red]stale[/red]: events have waited longer than {stale_after} for a seal; see the sealer's "
                      "log (notifications), run `hazardloop audit verify`, then `hazardloop audit seal`")  # fmt: skip
    else:
        console.print(f"[green]fresh[/green] (stale after {stale_after} with events waiting)")


def show_export(directory: Path, manifest: dict[str, Any], digest: str) -> None:
    """The archive's messages by type, its digests, and whether the log verified."""
    view = Table("type", "messages", title=f"archive {directory}: {manifest['events']:,} messages, sequences 1..{manifest['last_sequence']:,}")
    for kind, count in manifest["types"].items():
        view.add_row(kind, f"{count:,}")
    console.print(view)
    console.print(f"events.jsonl sha256 {manifest['events_sha256']}")
    console.print(f"manifest sha256 {digest}  (note it: it identifies this archive)")
    if not manifest["verified"]:
        console.print(f"[red]the log did not verify[/red]: {len(manifest['faults'])} faults, listed in the manifest")


def show_replay(plan: ReplayPlan, replayed: Replayed, *, origin: str, into: Path, moment: datetime | None) -> None:
    """Each service's rebuild and comparison, the totals, then every table that differs."""
    result = replayed.rebuild
    view = Table("service", "events applied", "through sequence", "seconds", "events/s", "compared with", "result",
                 title=f"replay of {origin} into {into}" + (f", as of {moment.isoformat()}" if moment else ""))  # fmt: skip
    for rebuilt in result.rebuilt:
        verdict = "-"
        if rebuilt.service in plan.compare:
            diffs = replayed.differences[rebuilt.service]
            verdict = "[green]identical[/green]" if not diffs else f"[red]{len(diffs)} tables differ[/red]"
        compared = "snapshot" if plan.against else ("live store" if rebuilt.service in plan.compare else "-")
        rate = rebuilt.applied / rebuilt.seconds if rebuilt.seconds else 0.0
        view.add_row(rebuilt.service, f"{rebuilt.applied:,}", f"{rebuilt.position:,}", f"{rebuilt.seconds:.2f}",
                     f"{rate:,.0f}", compared, verdict)  # fmt: skip
    console.print(view)
    total = sum(r.applied for r in result.rebuilt)
    console.print(f"log through sequence {plan.target:,}; {total:,} events applied in {result.seconds:.2f}s "
                  f"({total / max(result.seconds, 1e-9):,.0f} events/s across {len(plan.limits)} projections)")  # fmt: skip
    differences = [(rebuilt.service, d) for rebuilt in result.rebuilt for d in replayed.differences.get(rebuilt.service, [])]
    if differences:
        diff_view = Table("service", "table", "left rows", "replayed rows", "only left", "only replayed", "differing", "examples", title="differences")
        for name, d in differences:
            diff_view.add_row(name, d.table, str(d.left_rows), str(d.right_rows), str(d.only_left), str(d.only_right), str(d.differing), "; ".join(d.examples))
        console.print(diff_view)


def show_ledger(book: Ledger, title: str, lang: str, columns: int, files: Sequence[Path]) -> None:
    """The first 50 rows in the subsidiary's time and ``lang``, then where the whole ledger went."""
    from hazardloop.timing.instants import in_zone
    from hazardloop.web.labels import label

    view = Table("reported at", "place", "category", "grade", "status", "closed at", "reward", title=f"hazard ledger {title} ({book.timezone})")
    for row in book.rows[:50]:
        closed = in_zone(row.closed_at, book.zone) if row.closed_at else None
        view.add_row(f"{in_zone(row.reported_at, book.zone):%Y-%m-%d %H:%M}", f"{row.site} / {row.area} / {row.spot}",
                     label(row.category, lang), label(row.grade or row.outcome, lang) or "-", label(row.status, lang),
                     f"{closed:%Y-%m-%d}" if closed else "-",
                     f"{row.reward_yuan:,.2f} ({label(row.reward_status, lang)})" if row.reward_yuan is not None else "-")  # fmt: skip
    console.print(view)
    console.print(f"{len(book.rows)} reports ({columns} columns) from the log through sequence {book.through_sequence:,}: "
                  f"{', '.join(map(str, files))}")  # fmt: skip


def show_reconcile(findings: Sequence[Finding], read: int, now: datetime) -> None:
    if not findings:
        console.print(f"reconcile: {read:,} events read, as of {now.isoformat()}: no exceptions")
        return
    view = Table("exception", "tenant", "report", "sequence", "detail", title=f"reconcile: {len(findings)} exceptions as of {now.isoformat()}")
    for finding in findings:
        view.add_row(finding.kind, finding.tenant, finding.report_id, str(finding.sequence), finding.detail)
    console.print(view)


def show_figures(board: Any, *, moment: datetime, zone: ZoneInfo, sequence: int, since: date, until: date, origin: str) -> None:
    """The dashboard's figures (the console's ``figures.Dashboard``) as of a moment, table by table."""
    from hazardloop.timing.asof import wall_time
    from hazardloop.web.labels import label

    console.print(f"as of {wall_time(moment, zone)} ({zone.key}), from {origin} through event #{sequence:,}; "
                  f"reports filed {since} to {until}")  # fmt: skip
    late = {row["tenant"]: row for row in board.late}
    view = Table("subsidiary", "reports", "reporters", "overdue", "escalated", title="participation, overdue and escalated")
    for row in board.participation:
        view.add_row(row["tenant"], str(row["reports"].value), str(row["reporters"]), str(late[row["tenant"]]["overdue"].value),
                     str(late[row["tenant"]]["escalated"].value))  # fmt: skip
    console.print(view)
    categories = Table("category", "reports", title="reports by category")
    for category, weeks in sorted(board.by_category.items()):
        categories.add_row(label(category, "en"), str(sum(count.value for count in weeks.values())))
    console.print(categories)
    clocks = Table("subsidiary", "step", "done", "within the time limit", "median hours", "late", title="service levels")
    for row in board.clocks:
        share = f"{100 * row['share']:.1f}%" if row["share"] is not None else "-"
        median = f"{row['median_seconds'] / 3600:,.1f}" if row["median_seconds"] is not None else "-"
        clocks.add_row(row["tenant"], row["clock"], str(row["measured"]), share, median, str(row["late"].value))
    console.print(clocks)
    spend = Table("subsidiary", "year", "budget", "committed", "paid", "rewards paid", title="reward spend against budget (yuan)")
    for row in board.spend:
        budget = f"{row['budget_fen'] / 100:,.2f}" if row["budget_fen"] is not None else "no budget"
        spend.add_row(row["tenant"], str(row["year"]), budget, f"{row['committed_fen'] / 100:,.2f}", f"{row['paid_fen'] / 100:,.2f}",
                      str(row["paid"].value))  # fmt: skip
    console.print(spend)
    checks = Table("subsidiary", "asked to check", "answered", "found there too", "overdue, no answer", title="checks elsewhere")
    for row in board.checks:
        checks.add_row(row["tenant"], *(str(row[part]) for part in ("raised", "answered", "found", "overdue")))
    console.print(checks)
    signals = Table("subsidiary", "raised", "dismissed", "confirmed", title="fraud signals")
    for row in board.signals:
        signals.add_row(row["tenant"], *(str(row[part]) for part in ("raised", "dismissed", "confirmed")))
    console.print(signals)
    if board.places:
        places = Table("subsidiary", "place", "reports", title="places reported again and again")
        for row in board.places:
            places.add_row(row["tenant"], f"{row['site']} / {row['area']} / {row['spot']}", str(row["reports"].value))
        console.print(places)
