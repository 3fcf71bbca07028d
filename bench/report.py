"""Turning measured figures into the printed table and the saved JSON document."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

RESULTS_DIR = Path(__file__).with_name("results")


def write_json(document: dict[str, Any], stamp: datetime) -> Path:
    """Save under ``bench/results/<UTC timestamp>.json`` so runs can be compared later."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{stamp.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n")
    return path


def _num(value: float | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def _met(value: bool | None) -> str:
    return {True: "[green]yes[/green]", False: "[red]NO[/red]", None: ""}[value]


def table(document: dict[str, Any]) -> Table:
    """One row per figure, the system beside its raw nats-py baseline (fits 80 columns)."""
    appends, replay, http = document["appends"], document["replay"], document["http"]
    view = Table(
        title="hazardloop vs. raw nats-py: same run, same fresh nats-server",
        caption=(
            f"(a) {appends['events']:,} new aggregates, (b) {replay['events']:,} events, "
            f"(c) {http['workers']} HTTP clients; (a)(b) median of {appends['runs']} runs"
        ),
        box=box.SIMPLE_HEAD,
    )
    for column, justify in [("benchmark", "left"), ("hazardloop", "right"), ("raw nats-py", "right"),
                            ("ratio", "right"), ("target (>=)", "left"), ("met", "center")]:
        view.add_column(column, justify=justify)  # type: ignore[arg-type]
    view.add_row(
        "(a) appends/s", _num(appends["store"]["median"]), _num(appends["raw"]["median"]),
        _num(appends["ratio"], 2), appends["target"], _met(appends["met"]),
    )
    for name, figures in replay["projections"].items():
        shown = _num(figures["median"]) if figures["ok"] else f"[red]FAIL[/red] {_num(figures['median'])}"
        view.add_row(
            f"(b) {name[:6]}. ev/s" if len(name) > 6 else f"(b) {name} ev/s", shown, _num(replay["raw"]["median"]),
            _num(figures["ratio"], 2), replay["target"], _met(figures["met"]),
        )
    service, raw = http["service"], http["raw"]
    view.add_row("(c) POST req/s", _num(service["per_second"]), _num(raw["per_second"]),
                 _num(http["ratio"], 3), "-", "")
    view.add_row("(c) POST p50 ms", _num(service["p50_ms"], 1), _num(raw["p50_ms"], 2), "", "", "")
    view.add_row("(c) POST p99 ms", _num(service["p99_ms"], 1), _num(raw["p99_ms"], 2), "", "", "")
    if (rebuilt := document.get("archive")) is not None:
        view.add_row("(d) archive rebuild s", _num(rebuilt["seconds"], 1), "", "", f"< {rebuilt['target_seconds']:.0f}s",
                     _met(rebuilt["met"]))
        view.add_row("(d) archive events/s", _num(rebuilt["events_per_second"]), "", "", "", "")
    if (pages := document.get("console")) is not None:
        baseline = next(f for name, f in pages["pages"].items() if "baseline" in name)
        for name, figures in pages["pages"].items():
            if figures["target_p95_ms"] is None:
                continue
            view.add_row(f"(e) {name[:14]} p95 ms", _num(figures["p95_ms"], 1), _num(baseline["p95_ms"], 1),
                         _num(figures["p95_ms"] / baseline["p95_ms"], 1), f"< {figures['target_p95_ms']:.0f} ms", _met(figures["met"]))
    if (looked := document.get("similar")) is not None:
        figures, baseline = looked["lookups"]["similar lookup"], looked["lookups"]["case read (baseline)"]
        view.add_row("(f) similar p95 ms", _num(figures["p95_ms"], 1), _num(baseline["p95_ms"], 1),
                     _num(figures["p95_ms"] / baseline["p95_ms"], 1), f"< {figures['target_p95_ms']:.0f} ms", _met(figures["met"]))
    return view


def notes(document: dict[str, Any]) -> list[str]:
    """What the table cannot show: failures, drops, errors, where CPU went."""
    lines = []
    for name, figures in document["replay"]["projections"].items():
        for index, run in enumerate(figures["runs"], start=1):
            if not run["ok"]:
                lines.append(
                    f"(b) {name} FAILED run {index}: {run['problem']}; applied {run['applied']:,} in "
                    f"{run['seconds']:.1f}s ({run['rate']:,.0f}/s, the figure shown), {run['dropped']:,} messages "
                    f"dropped by nats-py as a slow consumer, {run['dead_letters']:,} dead letters; further runs skipped"
                )
    http = document["http"]
    service = http["service"]
    lines.append(
        f"(c) service CPU {service['service_cpu_ms_per_request']:.2f} ms/request, bench client CPU "
        f"{service['client_cpu_ms_per_request']:.2f} ms/request, on {document['environment']['cpus']} CPUs shared "
        f"with nats-server; errors: service {service['errors']}, baseline {http['raw']['errors']}"
    )
    if (rebuilt := document.get("archive")) is not None:
        per = ", ".join(f"{name} {f['applied']:,} in {f['seconds']:.0f}s" for name, f in rebuilt["projections"].items())
        lines.append(f"(d) {rebuilt['events']:,} archived events, every projection side by side and the archive "
                     f"verified alongside: {per}" + (f"; PROBLEMS: {'; '.join(rebuilt['problems'])}" if rebuilt["problems"] else ""))
    if (pages := document.get("console")) is not None:
        lines.append(f"(e) {pages['reports']:,} reports in the console's store; server time in-process, the home page as baseline: "
                     + ", ".join(f"{name} p50 {f['p50_ms']:.1f} / p95 {f['p95_ms']:.1f} ms ({f['requests']})"
                                 for name, f in pages["pages"].items()))
    if (looked := document.get("similar")) is not None:
        lines.append(f"(f) {looked['reports']:,} reports, {looked['postings']:,} rows in the blind index; as group headquarters "
                     "(three subsidiaries), the case's own read as baseline: "
                     + ", ".join(f"{name} p50 {f['p50_ms']:.1f} / p95 {f['p95_ms']:.1f} ms ({f['lookups']})"
                                 for name, f in looked["lookups"].items())
                     + f"; {looked['lookups']['similar lookup']['listed_per_lookup']:.1f} similar reports listed per lookup")
    logged = document.get("project_log_records") or {}
    if logged:
        lines.append("project log records during the run: " + ", ".join(f"{k} {v}" for k, v in sorted(logged.items())))
    return lines


def show(document: dict[str, Any], path: Path, console: Console | None = None) -> None:
    console = console or Console()
    console.print(table(document))
    for line in notes(document):
        console.print(f"  {line}")
    console.print(f"  elapsed {document['elapsed_seconds']:.0f}s; results written to {path}")
