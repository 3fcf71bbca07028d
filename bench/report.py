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


def write_json(document: dict[str, Any], stamp: datetime, folder: Path | None = None) -> Path:
    """Save under ``bench/results/<UTC timestamp>.json`` so runs can be compared later."""
    folder = folder or RESULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stamp.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n")
    return path


SHORT = {"officer queue": "queue", "HQ dashboard": "dashboard", "HQ dashboard, two years": "dash. 2 y",
         "report page": "report", "reporter's inbox": "inbox", "officer's queue": "queue"}
"""Row names short enough for an 80-column table; the notes below it give the full ones."""


def _p95_row(view: Table, label: str, figures: dict[str, Any], baseline: dict[str, Any]) -> None:
    """A read's p95 beside its baseline's, their ratio and the read's target."""
    view.add_row(f"{label} p95 ms", _num(figures["p95_ms"], 1), _num(baseline["p95_ms"], 1),
                 _num(figures["p95_ms"] / baseline["p95_ms"], 1), f"< {figures['target_p95_ms']:.0f} ms", _met(figures["met"]))


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
        title="hazardloop vs. its baselines: same run, same fresh nats-server",
        caption=(
            f"(a) {appends['events']:,} new aggregates, (b) {replay['events']:,} events, "
            f"(c) {http['workers']} HTTP clients; (a)(b) median of {appends['runs']} runs; (c) beside a minimal "
            "FastAPI app, (e) beside the filing's answer, (g) the console's home page, (h) each service's /healthz"
        ),
        box=box.SIMPLE_HEAD,
    )
    for column, justify in [("benchmark", "left"), ("hazardloop", "right"), ("baseline", "right"),
                            ("ratio", "right"), ("target", "left"), ("met", "center")]:
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
    service, floor = http["service"], http["baseline_app"]
    view.add_row("(c) POST req/s", _num(service["per_second"]), _num(floor["per_second"]),
                 _num(http["ratio"], 2), http["target"], _met(http["met"]))
    view.add_row("(c) POST p50 ms", _num(service["p50_ms"], 1), _num(floor["p50_ms"], 1), "", "", "")
    view.add_row("(c) POST p99 ms", _num(service["p99_ms"], 1), _num(floor["p99_ms"], 1), "", "", "")
    view.add_row("(c) CPU ms/request", _num(service["service_cpu_ms_per_request"], 2),
                 _num(floor["service_cpu_ms_per_request"], 2), "", "", "")
    view.add_row("(c) vs js.publish/s", _num(service["per_second"]), _num(http["raw"]["per_second"]),
                 _num(http["ratio_to_raw"], 3), "-", "")
    if (rebuilt := document.get("archive")) is not None:
        view.add_row("(d) archive rebuild s", _num(rebuilt["seconds"], 1), "", "", f"< {rebuilt['target_seconds']:.0f}s",
                     _met(rebuilt["met"]))
        view.add_row("(d) archive events/s", _num(rebuilt["events_per_second"]), "", "", "", "")
    if (latency := document.get("latency")) is not None:
        filing = latency["filing"]
        for place in ("inbox", "webhook"):
            figures = latency[place]
            view.add_row(f"(e) {place} p99 ms", _num(figures["p99_ms"], 1), _num(filing["p99_ms"], 1),
                         _num(figures["p99_ms"] / filing["p99_ms"], 1), f"< {figures['target_p99_ms']:.0f} ms", _met(figures["met"]))
    if (looked := document.get("similar")) is not None:
        figures, baseline = looked["lookups"]["similar lookup"], looked["lookups"]["case read (baseline)"]
        _p95_row(view, "(f) similar", figures, baseline)
    if (pages := document.get("console")) is not None:
        baseline = next(f for name, f in pages["pages"].items() if "baseline" in name)
        for name, figures in pages["pages"].items():
            if figures["target_p95_ms"] is None:
                continue
            _p95_row(view, f"(g) {SHORT.get(name, name)[:10]}", figures, baseline)
    if (reads := document.get("reads")) is not None:
        names = list(reads["reads"])
        for name, baseline_name in zip(names[::2], names[1::2], strict=True):  # each read, then its service's baseline
            figures, baseline = reads["reads"][name], reads["reads"][baseline_name]
            _p95_row(view, f"(h) {SHORT.get(name, name)[:10]}", figures, baseline)
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
    service, floor = http["service"], http["baseline_app"]
    lines.append(
        f"(c) baseline: a FastAPI app under uvicorn validating the same body and appending one guarded message; "
        f"bench client CPU {service['client_cpu_ms_per_request']:.2f} ms/request (app: {floor['client_cpu_ms_per_request']:.2f}), "
        f"on {document['environment']['cpus']} CPUs shared with nats-server; js.publish alone p50 {http['raw']['p50_ms']:.2f} / "
        f"p99 {http['raw']['p99_ms']:.2f} ms; errors: service {service['errors']}, app {floor['errors']}, js.publish {http['raw']['errors']}"
    )
    if (latency := document.get("latency")) is not None:
        lines.append(
            f"(e) {latency['filed']:,} of {latency['offered']:,} reports filed ({latency['rate_per_second']:.0f}/s open-loop, "
            f"{latency['failed']} failed); from each one's scheduled send time: answered p50 {latency['filing']['p50_ms']:.1f} / "
            f"p99 {latency['filing']['p99_ms']:.1f} ms (the baseline column), "
            + ", ".join(f"{place} p50 {latency[place]['p50_ms']:.1f} / p99 {latency[place]['p99_ms']:.1f} / max "
                        f"{latency[place]['max_ms']:.1f} ms (after intake's answer p50 {latency[place]['after_answer_p50_ms']:.1f} / "
                        f"p99 {latency[place]['after_answer_p99_ms']:.1f} ms; {latency[place]['arrived']:,} arrived, "
                        f"{latency[place]['missing']} missing)"
                        for place in ("inbox", "webhook"))
            + "".join(f"; webhook for {m['report_id']} not arrived: {m['status']}, {m['attempts']} attempts, {m['error']}"
                      for m in latency["webhook"].get("not_arrived", []))
        )
    if (rebuilt := document.get("archive")) is not None:
        per = ", ".join(f"{name} {f['applied']:,} in {f['seconds']:.0f}s" for name, f in rebuilt["projections"].items())
        lines.append(f"(d) {rebuilt['events']:,} archived events, every projection side by side and the archive "
                     f"verified alongside: {per}" + (f"; PROBLEMS: {'; '.join(rebuilt['problems'])}" if rebuilt["problems"] else ""))
    if (pages := document.get("console")) is not None:
        lines.append(f"(g) {pages['reports']:,} reports in the console's store; server time in-process, the home page as baseline: "
                     + ", ".join(f"{name} p50 {f['p50_ms']:.1f} / p95 {f['p95_ms']:.1f} ms ({f['requests']})"
                                 for name, f in pages["pages"].items()))
    if (looked := document.get("similar")) is not None:
        lines.append(f"(f) {looked['reports']:,} reports, {looked['postings']:,} rows in the blind index; as group headquarters "
                     "(three subsidiaries), the case's own read as baseline: "
                     + ", ".join(f"{name} p50 {f['p50_ms']:.1f} / p95 {f['p95_ms']:.1f} ms ({f['lookups']})"
                                 for name, f in looked["lookups"].items())
                     + f"; {looked['lookups']['similar lookup']['listed_per_lookup']:.1f} similar reports listed per lookup")
    if (reads := document.get("reads")) is not None:
        lines.append(f"(h) {reads['reports']:,} reports ({reads['events']:,} events) in intake's, verification's and notifications' "
                     f"stores, filled from the log in {reads['fill_seconds']:.0f}s (the inbox's deliveries then recorded in "
                     f"{reads['drain_seconds']:.0f}s, before the reads); one client on loopback, each service's "
                     "/healthz as baseline: " + ", ".join(f"{name} p50 {f['p50_ms']:.1f} / p95 {f['p95_ms']:.1f} ms ({f['requests']})"
                                                           for name, f in reads["reads"].items()))
    lines.sort(key=lambda line: line[:3] if line.startswith("(") else "")  # (a) to (h) in order
    logged = document.get("project_log_records") or {}
    if logged:
        lines.append("project log records during the run: " + ", ".join(f"{k} {v}" for k, v in sorted(logged.items())))
    return lines


def show(document: dict[str, Any], path: Path, console: Console | None = None) -> None:
    console = console or Console()
    console.print(table(document))
    for line in notes(document):
        console.print(f"  {line}")
    parts = ", ".join(f"{name} {seconds:.0f}s" for name, seconds in document.get("part_seconds", {}).items())
    console.print(f"  elapsed {document['elapsed_seconds']:.0f}s ({parts}); results written to {path}")
