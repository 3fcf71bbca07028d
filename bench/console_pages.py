"""(g) The console's heaviest pages with 100,000 reports in its store: server time per page.

The store is filled directly (untimed) with rows shaped as the projection writes them
(with the dashboard's tallies summed from them by the projection's own functions):
three subsidiaries, two years of weekly filings, every category, grade and state, late
and timely clocks, rewards and budgets, a few hundred places. Each page is then asked
in-process through the whole ASGI app with a signed-in session (routing, session, SQL,
template), beside the app's home page (a static template) as the baseline.

``python -m bench.console_pages --reports 5000`` is the quick run for development.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import perf_counter
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import insert

from bench.stats import percentile
from hazardloop.events import Category, Grade
from hazardloop.web.auth import Role
from hazardloop_console.app import build
from hazardloop_console.settings import ConsoleSettings
from hazardloop_console.store import budgets, cases, metadata
from hazardloop_console.tallies import derived, summed

TENANTS = ("refinery", "mine", "steelmill")
ZONE = ZoneInfo("Asia/Shanghai")
PAGES = {
    "home (baseline)": "/console",
    "officer queue": "/console/queue",
    "HQ dashboard": "/console/dashboard",
    "HQ dashboard, two years": "/console/dashboard?since={two_years_ago}",
}
TARGET_P95_MS = 200.0


def rows(count: int, now: datetime, seed: int = 5) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    reporters = [f"p-{rng.getrandbits(128):032x}" for _ in range(max(1, count // 20))]
    places = [(f"Site {s}", f"Area {a}", f"Spot {p}") for s in range(4) for a in range(8) for p in range(12)]
    made = []
    for _ in range(count):
        filed = now - timedelta(minutes=rng.randint(60, 2 * 365 * 24 * 60))
        day = filed.astimezone(ZONE).date()
        site, area, spot = rng.choice(places)
        state = rng.choices(["filed", "accepted", "verified", "rectifying", "under_review", "closed", "not_confirmed"],
                            weights=[2, 3, 2, 5, 2, 20, 3])[0]
        accepted = filed + timedelta(hours=rng.uniform(0.5, 30)) if state != "filed" else None
        verified = accepted + timedelta(hours=rng.uniform(1, 96)) if accepted and state not in ("accepted",) else None
        graded = verified is not None and state != "not_confirmed"
        deadline = verified + timedelta(days=rng.choice([2, 7, 30])) if graded else None
        closed = deadline + timedelta(days=rng.uniform(-6, 3)) if state == "closed" and deadline else None
        paid = verified + timedelta(days=1) if graded and rng.random() < 0.7 else None
        made.append({
            "report_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "tenant": rng.choice(TENANTS),
            "filed_at": filed, "observed_at": filed, "week": (day - timedelta(days=day.weekday())).isoformat(),
            "category": rng.choice(list(Category)).value, "subtype": "other", "description": "Guard missing on the tail pulley",
            "site": site, "area": area, "spot": spot, "channel": "web", "anonymous": False, "reporter": rng.choice(reporters),
            "photos": 0, "state": state, "grade": rng.choice(list(Grade)).value if graded else None,
            "accept_due_at": filed + timedelta(hours=12), "verify_due_at": filed + timedelta(days=3),
            "feedback_due_at": filed + timedelta(days=7), "accepted_at": accepted, "verified_at": verified,
            "owner": "maint-chen" if graded else None, "deadline": deadline, "closed_at": closed,
            "overdue": bool(deadline and not closed and deadline < now), "escalation_step": 1 if rng.random() < 0.03 else None,
            "externally_escalated": False, "sla_breaches": "", "reward_status": "granted" if paid else None,
            "reward_fen": rng.choice([5_000, 20_000, 100_000]) if paid else None, "reward_paid_at": paid,
            "steps": 4, "updated_at": now,
        })
    return made


def app_with_store(workdir: Path, count: int):
    settings = ConsoleSettings(state_dir=workdir, tenants=list(TENANTS), database_url=f"sqlite:///{workdir / 'console.db'}")
    settings.secret("jwt"), settings.secret("pseudonym")  # creates the key ring the service requires
    app = build(settings)
    engine = app.state.runtime.engine
    metadata.create_all(engine)
    now = datetime.now(UTC)
    made = [row | derived(row) for row in rows(count, now)]
    with engine.begin() as db:
        for first in range(0, len(made), 5000):
            db.execute(insert(cases), made[first:first + 5000])
        for table, sums in summed(made).items():
            db.execute(insert(table), sums)
        db.execute(insert(budgets), [{"tenant": t, "year": y, "amount_fen": 50_000_000, "committed_fen": 0}
                                     for t in TENANTS for y in (now.year - 1, now.year)])
    session = app.state.sessions.open(subject="hq-liu", name="hq-liu", tenants=["*"], roles=[Role.LEADER, Role.AUDITOR],
                                      token="-", expires_at=now + timedelta(hours=2))
    return app, session


async def time_pages(app, session: str, requests: int, seconds: float) -> dict[str, dict[str, Any]]:
    """Each page asked in turn (interleaved, so a slow spell of the machine hits all alike)."""
    two_years_ago = (datetime.now(UTC) - timedelta(days=730)).date().isoformat()
    paths = {name: path.format(two_years_ago=two_years_ago) for name, path in PAGES.items()}
    timings: dict[str, list[float]] = {name: [] for name in paths}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console", cookies={"hl_session": session}) as client:
        for path in paths.values():  # warm up: templates compiled, SQLite pages cached
            (await client.get(path)).raise_for_status()
        deadline = perf_counter() + seconds
        for _ in range(requests):
            for name, path in paths.items():
                started = perf_counter()
                response = await client.get(path)
                timings[name].append((perf_counter() - started) * 1000)
                response.raise_for_status()
            if perf_counter() > deadline:
                break
    return {name: {"requests": len(ms), "p50_ms": percentile(ms, 0.5), "p95_ms": percentile(ms, 0.95),
                   "target_p95_ms": None if "baseline" in name else TARGET_P95_MS,
                   "met": None if "baseline" in name else percentile(ms, 0.95) < TARGET_P95_MS}
            for name, ms in timings.items()}


def measure(workdir: Path, reports: int, requests: int = 60, seconds: float = 60.0) -> dict[str, Any]:
    started = perf_counter()
    app, session = app_with_store(workdir, reports)
    filled = perf_counter() - started
    pages = asyncio.run(time_pages(app, session, requests, seconds))
    app.state.runtime.engine.dispose()
    return {"reports": reports, "fill_seconds": filled, "pages": pages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=60)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hazardloop-console-bench-") as tmp:
        result = measure(Path(tmp), options.reports, options.requests)
    print(f"{result['reports']:,} reports (filled in {result['fill_seconds']:.1f}s)")
    for name, figures in result["pages"].items():
        print(f"  {name:<26} p50 {figures['p50_ms']:7.1f} ms  p95 {figures['p95_ms']:7.1f} ms  ({figures['requests']} requests)")


if __name__ == "__main__":
    main()
