"""The dashboard as of a past moment, replayed from the log: the same figures as a
console that only ever saw the log up to that moment, whatever happened since.

Two batches go into a real nats-server stream: reports filed and moved along, then
more reports and more steps on the first ones (accepted, verified, rectified, overdue,
escalated, rewarded). A moment between them is asked for.
"""

from __future__ import annotations

import random
import uuid
import asyncio
import os
import re
import time
from datetime import UTC, datetime, timedelta

import nats
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from hazardloop.audit.replay import Source, diff_stores
from hazardloop.events import (
    Accepted,
    BudgetCommitted,
    Category,
    EscalationRaised,
    Grade,
    Outcome,
    RectificationAccepted,
    RectificationAssigned,
    RectificationOverdue,
    Rectified,
    ReportFiled,
    RewardBudgetSet,
    RewardGranted,
    Verified,
)
from hazardloop.log.eventstore import EventStore, Subjects
from hazardloop.projections import ProjectionRunner
from hazardloop.projections.db import create_store_engine
from hazardloop.projections.replay import rebuild
from hazardloop.runtime.settings import CommonSettings
from hazardloop.timing.asof import wall_time
from hazardloop.tools.cli import cli
from hazardloop.web.auth import Role
from hazardloop_console import figures
from hazardloop_console.projection import projection
from hazardloop_console.snapshots import Snapshots, replay_into
from hazardloop_console.store import cases, metadata
from tests.integration.services.test_console_dashboard import PLACES, TENANTS, ZONE, History
from tests.waiting import eventually, wait_for

COLOURS = {"general": "yellow", "larger": "orange", "major": "red"}


def file(history: History, rng: random.Random, at: datetime) -> tuple[str, str]:
    tenant, place = rng.choice(TENANTS), rng.choice(PLACES)
    report_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    history.add(ReportFiled, tenant, report_id, at, category=rng.choice(list(Category)).value, subtype="other",
                description="Something unsafe", location={"site": place[0], "area": place[1], "spot": place[2]},
                reporter=f"p-{rng.randrange(6):032x}", observed_at=at - timedelta(minutes=5))
    return tenant, report_id


def move(history: History, rng: random.Random, tenant: str, report_id: str, at: datetime, steps: list[str]) -> datetime:
    """Take a report through ``steps`` of the loop, an hour or more apart; the time of the last."""
    for step in steps:
        at += timedelta(hours=rng.uniform(1, 30))
        if step == "accept":
            history.add(Accepted, tenant, report_id, at)
        elif step == "verify":
            grade = rng.choice(list(Grade)).value
            history.add(Verified, tenant, report_id, at, outcome=Outcome.CONFIRMED_HAZARD, grade=grade,
                        risk_colour=COLOURS[grade], factors={})
        elif step == "assign":
            history.add(RectificationAssigned, tenant, report_id, at, owner="maint-chen", deadline=at + timedelta(days=2))
        elif step == "rectify":
            history.add(Rectified, tenant, report_id, at, measures="Fixed")
            history.add(RectificationAccepted, tenant, report_id, at + timedelta(hours=1))
        elif step == "overdue":
            history.add(RectificationOverdue, tenant, report_id, at, deadline=at, owner="maint-chen")
            history.add(EscalationRaised, tenant, report_id, at + timedelta(hours=1), step=1, deadline=at, due_at=at, notify=())
        elif step == "pay":
            history.add(RewardGranted, tenant, report_id, at, report_id=report_id, reporter=f"p-{0:032x}", amount_fen=20_000,
                        outcome=Outcome.CONFIRMED_HAZARD, grade="general", policy="group-standard",
                        payment_reference=f"PAY-{report_id[:8]}", approved_by="head")
            year = at.astimezone(ZONE).year
            history.add(BudgetCommitted, tenant, f"year-{year}", at, report_id=report_id, amount_fen=20_000)
    return at


def two_batches(now: datetime) -> tuple[History, int]:
    """A history whose first ``cut`` events are the first batch; the rest moves its reports on."""
    rng, history = random.Random(11), History()
    start = now - timedelta(weeks=8)
    year = now.astimezone(ZONE).year
    for tenant in TENANTS:
        history.add(RewardBudgetSet, tenant, f"year-{year}", start, year=year, amount_fen=1_000_000)
    first = []
    for _ in range(40):
        tenant, report_id = file(history, rng, start + timedelta(minutes=rng.randint(0, 4 * 7 * 24 * 60)))
        steps = rng.choice([[], ["accept"], ["accept", "verify"], ["accept", "verify", "assign"]])
        first.append((tenant, report_id, steps, move(history, rng, tenant, report_id, history.events[-1][0].occurred_at, steps)))
    cut = len(history.events)
    for tenant, report_id, steps, at in first:
        later = ["accept", "verify", "assign", rng.choice(["rectify", "overdue"]), "pay"][len(steps):]
        move(history, rng, tenant, report_id, at, later[:rng.randint(1, len(later))])
    for _ in range(25):
        file(history, rng, now - timedelta(weeks=4) + timedelta(minutes=rng.randint(0, 3 * 7 * 24 * 60)))
    assert all(event.occurred_at <= now for event, _ in history.events)
    return history, cut


async def append(store, events) -> None:
    for first in range(0, len(events), 500):
        await store.append_many(events[first:first + 500])


async def test_the_figures_as_of_a_moment_are_those_of_a_console_that_saw_the_log_only_up_to_it(store, nc, tmp_path, nats_url):
    now = datetime.now(UTC)
    history, cut = two_batches(now)
    await append(store, history.events[:cut])
    first_only = create_store_engine(f"sqlite:///{tmp_path / 'first-batch.db'}")
    await rebuild(ProjectionRunner(projection(store), first_only, store), nc)
    moment = datetime.now(UTC)
    await append(store, history.events[cut:])
    everything = create_store_engine(f"sqlite:///{tmp_path / 'everything.db'}")
    await rebuild(ProjectionRunner(projection(store), everything, store), nc)

    settings = CommonSettings(nats_url=nats_url, stream_name=store.stream, subject_prefix=store.subjects.prefix,
                              state_dir=tmp_path, tenants=TENANTS)
    snapshots = Snapshots(settings)
    snapshot = await snapshots.at(moment, wait=300)
    assert snapshot.sequence == cut

    day = moment.astimezone(ZONE).date()
    scope = figures.Scope(TENANTS, day - timedelta(weeks=10), day, moment, ZONE)
    as_of = snapshot.engine()
    board = figures.dashboard(as_of, scope)
    assert board == figures.dashboard(first_only, scope)
    assert board != figures.dashboard(everything, scope)  # the second batch changed the figures
    assert sum(row["reports"].value for row in board.participation) == 40
    assert sum(row["overdue"].value for row in board.late) > 0  # due times passed by the moment: counted as then
    assert all(diff.identical for diff in diff_stores(metadata, str(first_only.url), snapshot.url)), "the stores differ"

    # a second view of the moment reads the kept store: nothing replayed again
    kept = snapshots.path(cut).stat().st_ino
    again = await Snapshots(settings).at(moment, wait=1)
    assert again.url == snapshot.url and snapshots.path(cut).stat().st_ino == kept

    # a later moment starts from the kept earlier store and replays only what came after it
    latest = await snapshots.at(datetime.now(UTC), wait=300)
    assert latest.sequence == len(history.events)
    assert all(diff.identical for diff in diff_stores(metadata, str(everything.url), latest.url)), "the stores differ"
    for engine in (as_of, first_only, everything):
        engine.dispose()


async def test_the_stores_viewed_least_recently_go_first(store, nats_url, tmp_path):
    history, _ = two_batches(datetime.now(UTC))
    await append(store, history.events)
    settings = CommonSettings(nats_url=nats_url, stream_name=store.stream, subject_prefix=store.subjects.prefix,
                              state_dir=tmp_path, tenants=TENANTS)
    snapshots = Snapshots(settings, kept=2)
    folder = snapshots.path(1).parent
    folder.mkdir(parents=True)
    older, recent = snapshots.path(1), snapshots.path(2)
    other_shape = folder / "console-0123456789abcdef-3.db"
    for age, path in enumerate([recent, older, other_shape]):
        path.write_bytes(b"")
        os.utime(path, (time.time() - 3600 * (age + 1),) * 2)

    latest = await snapshots.at(datetime.now(UTC), wait=300)
    assert sorted(folder.iterdir()) == sorted([recent, latest.path])
    with latest.engine().connect() as db:
        assert db.execute(select(func.count()).select_from(cases)).scalar() == 65
        with pytest.raises(OperationalError):  # read-only
            db.execute(cases.delete())


async def _append_to(harness, events) -> None:
    connection = await nats.connect(harness.nats_url)
    try:
        store = EventStore(connection, stream=harness.stream, subjects=Subjects(harness.prefix))
        await store.ensure_stream()
        await append(store, events)
    finally:
        await connection.close()


def test_the_dashboard_page_shows_a_moment_as_of_the_log_or_says_why_not(harness):
    now = datetime.now(UTC)
    history, cut = two_batches(now)
    asyncio.run(_append_to(harness, history.events[:cut]))
    moment = datetime.now(UTC)
    asked = wall_time(moment, ZONE).replace(" ", "T")  # to the second, as the page's field holds it
    wait_for(lambda: datetime.now(UTC).replace(microsecond=0) > moment)  # the next batch is stored after that second
    asyncio.run(_append_to(harness, history.events[cut:]))
    console = harness.start("console", tenants=TENANTS)
    console.cookies.set("hl_session", console.app.state.sessions.open(
        subject="auditor-qian", name="auditor-qian", tenants=TENANTS, roles=[Role.AUDITOR], token="-",
        expires_at=datetime.now(UTC) + timedelta(hours=1)))

    page = console.get("/console/dashboard", params={"as_of": asked, "lang": "en"})
    assert page.status_code == 200, page.text
    assert f"As of {asked.replace('T', ' ')} (Asia/Shanghai), from the log through event #{cut}." in page.text
    assert f'name="as_of" value="{asked}"' in page.text
    reports = [int(n) for n in re.findall(r'<tr><td>[^<]+</td><td class="num">\d+</td><td class="num">(\d+)</td></tr>',
                                          page.text.split('id="participation"')[1].split("</table>")[0])]
    assert sum(reports) == 40 and "<td>Refinery</td>" in page.text  # the first batch's reports, none of the second's
    assert "/console/queue?" not in page.text.split('id="by-category"')[1]  # a past moment links to no queue of today
    assert "Checks elsewhere" in page.text and "No subsidiary was asked to check in this period." in page.text
    assert "Fraud signals" in page.text and "No fraud signal was raised or reviewed in this period." in page.text
    live = console.get("/console/dashboard", params={"lang": "en"})
    assert "from the log through event" not in live.text and "/console/queue?" in live.text

    zh = console.get("/console/dashboard", params={"as_of": asked, "lang": "zh-CN"})
    assert f"以下为截至 {asked.replace('T', ' ')}（Asia/Shanghai）的数据，依据事件日志至第 {cut} 号事件重新计算。" in zh.text

    for wrong, status, message in (
        ("2026-02-30", 422, "Enter a date and time"),
        ("next tuesday", 422, "Enter a date and time"),
        (wall_time(now + timedelta(days=1), ZONE), 422, "That moment has not come yet"),
        ("2001-01-01", 422, "That moment is before the log&#39;s first event"),
    ):
        page = console.get("/console/dashboard", params={"as_of": wrong, "lang": "en"})
        assert page.status_code == status and f'id="as_of-error">{message}' in page.text, (wrong, page.status_code)
        assert "from the log through event" not in page.text
        assert 'id="participation"' in page.text and "<td>Refinery</td>" not in page.text  # no figures pass for that moment's


async def test_an_auditor_prints_the_figures_as_of_a_moment_from_the_command_line(store, nc, nats_url, tmp_path, monkeypatch):
    now = datetime.now(UTC)
    history, cut = two_batches(now)
    await append(store, history.events[:cut])
    first_only = create_store_engine(f"sqlite:///{tmp_path / 'first-batch.db'}")
    await rebuild(ProjectionRunner(projection(store), first_only, store), nc)
    moment = datetime.now(UTC)
    asked = wall_time(moment, ZONE).replace(" ", "T")
    await eventually(lambda: datetime.now(UTC).replace(microsecond=0) > moment)
    await append(store, history.events[cut:])
    monkeypatch.setenv("HAZARDLOOP_SUBJECT_PREFIX", store.subjects.prefix)
    monkeypatch.chdir(tmp_path)

    def figures_of(*args: str):
        # the command runs its own event loop: off this test's
        return asyncio.to_thread(CliRunner().invoke, cli, ["audit", "figures", *args, "--nats-url", nats_url, "--stream", store.stream],
                                 env={"COLUMNS": "200"})

    result = await figures_of("--as-of", asked, "--tenant", "mine", "--tenant", "refinery")
    assert result.exit_code == 0, result.output
    assert f"as of {asked.replace('T', ' ')} (Asia/Shanghai), from the live log through event #{cut}" in result.output
    day = moment.astimezone(ZONE).date()
    expected = figures.dashboard(first_only, figures.Scope(["mine", "refinery"], figures.default_since(day), day, moment, ZONE))
    for row in expected.participation:
        overdue = next(r for r in expected.late if r["tenant"] == row["tenant"])
        shown = [row["tenant"], row["reports"].value, row["reporters"], overdue["overdue"].value, overdue["escalated"].value]
        assert re.search(r"\s+│\s+".join(map(str, shown)) + r"\s+│", result.output), (shown, result.output)
    assert "steelmill" not in result.output and "checks elsewhere" in result.output and "fraud signals" in result.output

    for wrong in ("2026-02-30", wall_time(now + timedelta(days=1), ZONE)):
        result = await figures_of("--as-of", wrong)
        assert result.exit_code == 2 and "--as-of" in result.output, result.output
    result = await figures_of("--as-of", "2001-01-01")
    assert result.exit_code == 1 and "before the log's first event" in result.output, result.output
    first_only.dispose()


async def test_a_store_as_of_an_earlier_event_is_brought_up_to_a_later_one_by_the_events_between(store, nc, nats_url, tmp_path):
    history, cut = two_batches(datetime.now(UTC))
    await append(store, history.events[:cut])
    earlier = tmp_path / "earlier.db"
    await rebuild(ProjectionRunner(projection(store), create_store_engine(f"sqlite:///{earlier}"), store), nc)
    await append(store, history.events[cut:])
    everything = create_store_engine(f"sqlite:///{tmp_path / 'everything.db'}")
    await rebuild(ProjectionRunner(projection(store), everything, store), nc)

    source = Source(store.stream, store.subjects.prefix, servers=(nats_url,))
    applied = await asyncio.to_thread(replay_into, f"sqlite:///{earlier}", source, len(history.events))
    assert applied == len(history.events) - cut
    assert all(diff.identical for diff in diff_stores(metadata, str(everything.url), f"sqlite:///{earlier}"))
    everything.dispose()
