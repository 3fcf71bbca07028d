"""``make bench``: start one nats-server, run (a) to (h), print the table, save JSON.

Every figure is measured beside a baseline in the same run (raw nats-py on the same freshly
started broker, a minimal web app, a trivial page or route of the same service), so the
ratio says what hazardloop's own code costs. ``python -m bench.run --smoke`` runs every
part with tiny parameters in seconds: it shows the bench works, not how fast anything is.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import platform
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from time import perf_counter
from typing import Any

from rich.console import Console

from bench import appends, archive, console_pages, filing_latency, intake_http, read_paths, replay, similar
from bench.fixtures import filings, lifecycles
from bench.report import show, write_json
from bench.stats import median, ratio
from hazardloop.log.natsserver import NatsServer, find_binary
from hazardloop_intake.projection import projection as intake
from hazardloop_notifications.projection import projection as notifications
from hazardloop_rewards.projection import projection as rewards

console = Console(stderr=True)


@dataclass(frozen=True)
class Parameters:
    runs: int = 3
    appends: int = 20_000
    replay_reports: int = 25_000
    """Four events each: 100,000 events in the log."""
    http_workers: int = 32
    http_warmup: int = 300
    http_requests: int = 5_000
    http_seconds: float = 10.0
    append_target_ratio: float = 0.5
    http_target_ratio: float = 0.5
    replay_target_rate: float = 30_000
    replay_target_ratio: float = 0.2
    archive_events: int = 1_000_000
    archive_target_seconds: float = 120.0
    console_reports: int = 100_000
    console_requests: int = 60
    console_seconds: float = 60.0
    similar_reports: int = 100_000
    similar_lookups: int = 300
    similar_seconds: float = 60.0
    latency_rate: float = 100.0
    """Reports filed a second, open-loop, in (e)."""
    latency_seconds: float = 30.0
    reads_reports: int = 100_000
    reads_requests: int = 300
    reads_seconds: float = 30.0
    cache_archive: bool = True
    """Keep (d)'s generated archive between runs (keyed by its parameters and code)."""

    @classmethod
    def smoke(cls) -> Parameters:
        """Every part, tiny: seconds in all; the figures mean nothing but that it ran."""
        return cls(
            runs=1, appends=200, replay_reports=250, http_workers=4, http_warmup=10, http_requests=100, http_seconds=5.0,
            archive_events=2_000, console_reports=300, console_requests=5, console_seconds=10.0, similar_reports=300,
            similar_lookups=10, similar_seconds=10.0, latency_rate=20.0, latency_seconds=2.0, reads_reports=200,
            reads_requests=10, reads_seconds=10.0, cache_archive=False,
        )


class CountingHandler(logging.Handler):
    """Keeps the project's log lines off the table, but counts them for the report."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[f"{record.name} {record.levelname}"] += 1


async def bench_appends(url: str, p: Parameters) -> dict[str, Any]:
    """(a): events built before timing; store and baseline alternate, fresh streams each."""
    console.log(f"(a) building {p.appends:,} ReportFiled events")
    events = filings(p.appends)
    console.log(f"(a) append_many vs publish_async, {p.runs} runs each")
    rates = await appends.measure(url, events, p.runs)
    store, raw = median(rates["store"]), median(rates["raw"])
    share = ratio(store, raw)
    return {
        "events": p.appends,
        "runs": p.runs,
        "store": {"runs": rates["store"], "median": store},
        "raw": {"runs": rates["raw"], "median": raw, "max_in_flight": appends.MAX_IN_FLIGHT},
        "ratio": share,
        "target": f"{p.append_target_ratio}x",
        "met": share >= p.append_target_ratio,
    }


def replay_targets(reports: int) -> list[replay.Target]:
    """The projections replayed, each with the row counts a complete replay yields; rewards
    with and without its fraud signals (``python -m bench.signals`` measures them on a log
    where the signal rules have more to do)."""
    done = "SELECT count(*) FROM intake_reports WHERE status = 'rectified' AND reward_fen IS NOT NULL"
    paid = (replay.Check("SELECT count(*) FROM rewards WHERE status = 'granted'", reports),)
    return [
        replay.Target("intake", intake, (replay.Check(done, reports),)),
        replay.Target("rewards", rewards, paid),
        replay.Target("rewards without signals", partial(rewards, signals=False), paid),
        replay.Target("notifications", notifications, (
            replay.Check("SELECT count(*) FROM notification_inbox", reports * replay.STAGES),
            replay.Check(  # an inbox message is its own delivery record; e-mails and webhooks are in the outbox
                "SELECT (SELECT count(DISTINCT key) FROM notification_inbox WHERE status = 'pending')"
                " + (SELECT count(*) FROM notification_deliveries)",
                reports * replay.STAGES,
            ),
            replay.Check("SELECT count(*) FROM notification_reports", reports),
        )),
    ]


async def bench_replay(url: str, workdir: Path, p: Parameters) -> dict[str, Any]:
    """(b): fill the log once (untimed), then rebuild each projection and read it raw."""
    console.log(f"(b) building and appending {p.replay_reports * replay.STAGES:,} events")
    reports = lifecycles(p.replay_reports)
    filled = await replay.prepare_stream(url, reports)
    del reports
    gc.collect()  # the fixtures are garbage now; do not let them tax the timed replay
    console.log(f"(b) {filled:,} events in the log; rebuilding projections, {p.runs} runs")
    measured = await replay.measure(url, replay_targets(p.replay_reports), workdir, p.runs)
    raw = median(measured["raw"])
    projections = {}
    for name, runs in measured["rebuilds"].items():
        ok = all(run["ok"] for run in runs)
        speed = median([run["rate"] for run in runs])
        share = ratio(speed, raw)
        projections[name] = {
            "runs": runs,
            "ok": ok,
            "median": speed,
            "ratio": share,
            "met": ok and speed >= p.replay_target_rate and share >= p.replay_target_ratio,
        }
    return {
        "events": measured["events"],
        "batch_size": replay.BATCH_SIZE,
        "raw": {"runs": measured["raw"], "median": raw},
        "projections": projections,
        "target": f"{p.replay_target_rate / 1000:.0f}k/s & {p.replay_target_ratio}x",
    }


async def bench_http(url: str, workdir: Path, p: Parameters) -> dict[str, Any]:
    """(c): a real intake process over real HTTP, beside a minimal FastAPI app that only
    validates the body and appends one guarded message, then the broker leg alone."""
    state = workdir / "intake-state"
    token = intake_http.reporter_token(state)  # creates the secret the service will read
    console.log(f"(c) POST /reports: {p.http_workers} clients, up to {p.http_requests:,} requests or {p.http_seconds:.0f}s")
    load = {"workers": p.http_workers, "warmup": p.http_warmup, "max_requests": p.http_requests, "max_seconds": p.http_seconds}
    with intake_http.intake_process(url, state, workdir / "intake.log") as service:
        await intake_http.seed_catalogue(service, state)
        result, cpu = await intake_http.http_load(service, token, **load)
    console.log("(c) baseline: a minimal FastAPI app, same client and concurrency")
    with intake_http.baseline_process(url, workdir / "baseline-app.log") as app:
        floor, floor_cpu = await intake_http.http_load(app, token, **load)
    console.log("(c) broker leg alone: js.publish awaiting each ack")
    raw = await intake_http.broker_load(url, **load)
    share = ratio(result.per_second, floor.per_second)
    return {
        "workers": p.http_workers,
        "service": result.summary() | {k: round(v, 3) for k, v in cpu.items()},
        "baseline_app": floor.summary() | {k: round(v, 3) for k, v in floor_cpu.items()},
        "raw": raw.summary(),
        "ratio": share,
        "ratio_to_raw": ratio(result.per_second, raw.per_second),
        "target": f"{p.http_target_ratio}x",
        "met": share >= p.http_target_ratio,
    }


def bench_latency(url: str, workdir: Path, p: Parameters) -> dict[str, Any]:
    """(e): reports filed at a steady rate; when each reached the officer's inbox and webhook."""
    console.log(f"(e) filing {p.latency_rate:.0f} reports/s for {p.latency_seconds:.0f}s, open-loop; "
                "intake, verification, notifications as processes")
    return filing_latency.measure(url, workdir / "latency", p.latency_rate, p.latency_seconds)


def bench_reads(url: str, workdir: Path, p: Parameters) -> dict[str, Any]:
    """(h): a report's page, a reporter's inbox and the officer's queue over full stores."""
    console.log(f"(h) read paths over {p.reads_reports:,} reports, up to {p.reads_requests} requests each")
    return read_paths.measure(url, workdir / "reads", p.reads_reports, p.reads_requests, p.reads_seconds)


def environment() -> dict[str, Any]:
    server = subprocess.run([find_binary(), "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "nats_server": server,
        "nats_py": version("nats-py"),
        "sqlalchemy": version("sqlalchemy"),
        "httpx": version("httpx"),
    }


def bench_console(workdir: Path, p: Parameters) -> dict[str, Any]:
    """(g): the console's queue and dashboard with a full store, beside its home page."""
    console.log(f"(g) console pages over {p.console_reports:,} reports, up to {p.console_requests} requests each")
    return console_pages.measure(workdir / "console", p.console_reports, p.console_requests, p.console_seconds)


def bench_similar(workdir: Path, p: Parameters) -> dict[str, Any]:
    """(f): similar earlier reports looked up over a full store, beside the case's own read."""
    console.log(f"(f) similar-case lookups over {p.similar_reports:,} reports, up to {p.similar_lookups}")
    return similar.measure(workdir / "similar", p.similar_reports, p.similar_lookups, p.similar_seconds)


def bench_archive(workdir: Path, p: Parameters) -> dict[str, Any]:
    """(d): write an archive (untimed), then rebuild every projection from it, once."""
    console.log(f"(d) an archive of {p.archive_events:,} events" + (", kept from an earlier run if its generator is unchanged" if p.cache_archive else ""))
    manifest, reused = archive.cached_archive(workdir / "archive", p.archive_events, cache=archive.CACHE_DIR if p.cache_archive else None)
    console.log(f"(d) {manifest['events']:,} messages ({'reused' if reused else 'written'}), {manifest['events_bytes'] / 2**20:,.0f} MiB; rebuilding every projection")
    measured = archive.measure(workdir / "archive", workdir / "archive-stores")
    return measured | {"archive_reused": reused, "target_seconds": p.archive_target_seconds,
                       "met": measured["ok"] and measured["seconds"] < p.archive_target_seconds}


async def run_all(url: str, workdir: Path, p: Parameters, timed: dict[str, float]) -> dict[str, Any]:
    done = {}
    parts = {"appends": partial(bench_appends, url, p), "replay": partial(bench_replay, url, workdir, p),
             "http": partial(bench_http, url, workdir, p)}
    for name, part in parts.items():
        started = perf_counter()
        done[name] = await part()
        timed[name] = perf_counter() - started
    return done


def timed_part(timed: dict[str, float], name: str, part: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one part, noting its wall-clock time (set-up included) for the run's summary."""
    started = perf_counter()
    try:
        return part()
    finally:
        timed[name] = perf_counter() - started


def quiet_project_logs() -> CountingHandler:
    handler = CountingHandler()
    project = logging.getLogger("hazardloop")
    project.addHandler(handler)
    project.propagate = False
    return handler


def main() -> None:
    parser = argparse.ArgumentParser(description="hazardloop's benchmarks, each beside its baseline.")
    parser.add_argument("--smoke", action="store_true", help="every part with tiny parameters: that it runs, in seconds")
    parser.add_argument("--results", type=Path, default=None, help="folder for the JSON document (default bench/results)")
    options = parser.parse_args()
    stamp = datetime.now(UTC)
    started = perf_counter()
    p = Parameters.smoke() if options.smoke else Parameters()
    document: dict[str, Any] = {"timestamp": stamp.isoformat(), "smoke": options.smoke, "parameters": asdict(p),
                                "environment": environment()}
    logged = quiet_project_logs()
    timed: dict[str, float] = {}

    def part(name: str, measure: Callable[[], dict[str, Any]]) -> None:
        """Run one part and save the document so far: a run cut short keeps what it measured."""
        document[name] = timed_part(timed, name, measure)
        document["part_seconds"] = {done: round(seconds, 1) for done, seconds in timed.items()}
        write_json(document, stamp, options.results)

    with tempfile.TemporaryDirectory(prefix="hazardloop-bench-") as tmp:
        workdir = Path(tmp)
        server = NatsServer(workdir / "nats").start(log_file=workdir / "nats-server.log")
        console.log(f"nats-server on {server.url}")
        try:
            document |= asyncio.run(run_all(server.url, workdir, p, timed))
            part("latency", partial(bench_latency, server.url, workdir, p))
            part("reads", partial(bench_reads, server.url, workdir, p))
        finally:
            server.stop()
        part("archive", partial(bench_archive, workdir, p))
        part("console", partial(bench_console, workdir, p))
        part("similar", partial(bench_similar, workdir, p))
    document["project_log_records"] = dict(logged.counts)
    document["environment"]["load_average_at_end"] = os.getloadavg()
    document["elapsed_seconds"] = perf_counter() - started
    show(document, write_json(document, stamp, options.results), Console())


if __name__ == "__main__":
    main()
