"""The group dashboard's figures, checked against counts taken straight from the log's
events, and each figure's drill-down listing exactly the reports it counted.

A generated history (three subsidiaries, ten weeks, every category and grade, late and
timely steps, overdue and escalated cases, rewards and budgets) goes into a real
nats-server stream through the event store; the console's projection folds it; the
expected figures are computed here from the same list of events, in plain Python.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hazardloop.events import (
    GENESIS_HASH,
    Accepted,
    BudgetCommitted,
    CaseworkPolicy,
    Category,
    EscalationRaised,
    Event,
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
from hazardloop.projections import ProjectionRunner
from hazardloop.projections.db import create_store_engine
from hazardloop.projections.replay import rebuild
from hazardloop.timing.deadlines import accept_due
from hazardloop_console import figures, queries
from hazardloop_console.projection import projection

ZONE = ZoneInfo("Asia/Shanghai")
TENANTS = ["mine", "refinery", "steelmill"]
PLACES = [("North", "Unit 2", "AT-2031"), ("North", "Unit 2", "Bay 3"), ("South", "Tank farm", "T-101"),
          ("South", "Jetty", "Berth 1"), ("Harbour", "Conveyor", "Tail pulley")]
POLICY = CaseworkPolicy()


class History:
    """Events chained per aggregate, as the services chain them, each guarded by the
    sequence of its aggregate's previous event (the stream starts empty)."""

    def __init__(self) -> None:
        self.events: list[tuple[Event, int]] = []
        self._heads: dict[tuple[str, str, str], tuple[str, int]] = {}

    def add(self, kind: type[Event], tenant: str, aggregate_id: str, at: datetime, **fields) -> Event:
        key = (tenant, kind.aggregate_type, aggregate_id)
        prev_hash, previous = self._heads.get(key, (GENESIS_HASH, 0))
        event = kind.record(prev_hash=prev_hash, tenant=tenant, aggregate_id=aggregate_id, actor="someone", occurred_at=at, **fields)
        self.events.append((event, previous))
        self._heads[key] = (event.hash, len(self.events))
        return event


@dataclass
class Case:
    report_id: str
    tenant: str
    filed_at: datetime
    category: str
    place: tuple[str, str, str]
    reporter: str
    state: str = "filed"
    accepted_at: datetime | None = None
    verified_at: datetime | None = None
    grade: str | None = None
    deadline: datetime | None = None
    closed_at: datetime | None = None
    overdue: bool = False
    escalated: bool = False
    paid_fen: int | None = None
    paid_at: datetime | None = None


def generate(now: datetime, count: int = 160, seed: int = 7) -> tuple[History, list[Case], dict]:
    rng = random.Random(seed)
    history, made = History(), []
    reporters = [f"p-{rng.getrandbits(128):032x}" for _ in range(9)]
    start = now - timedelta(weeks=10)
    for _ in range(count):
        tenant, place = rng.choice(TENANTS), rng.choice(PLACES)
        filed_at = start + timedelta(minutes=rng.randint(0, 10 * 7 * 24 * 60 - 60))
        case = Case(str(uuid.UUID(int=rng.getrandbits(128), version=4)), tenant, filed_at, rng.choice(list(Category)).value,
                    place, rng.choice(reporters))
        made.append(case)
        history.add(ReportFiled, tenant, case.report_id, filed_at, category=case.category, subtype="other",
                    description="Something unsafe", location={"site": place[0], "area": place[1], "spot": place[2]},
                    reporter=case.reporter, observed_at=filed_at - timedelta(minutes=5))
        _casework(rng, history, case, now)
    budgets: dict[tuple[str, int], list[int]] = {}
    for tenant in TENANTS[:2]:
        year = now.astimezone(ZONE).year
        history.add(RewardBudgetSet, tenant, f"year-{year}", now - timedelta(weeks=11), year=year, amount_fen=500_000)
        committed = [c.paid_fen for c in made if c.tenant == tenant and c.paid_fen and c.paid_at.astimezone(ZONE).year == year]
        for case in (c for c in made if c.tenant == tenant and c.paid_fen and c.paid_at.astimezone(ZONE).year == year):
            history.add(BudgetCommitted, tenant, f"year-{year}", case.paid_at, report_id=case.report_id, amount_fen=case.paid_fen)
        budgets[(tenant, year)] = [500_000, sum(committed)]
    return history, made, budgets


def _casework(rng: random.Random, history: History, case: Case, now: datetime) -> None:
    """A path through the loop: each step at a random delay, some late, some never taken."""
    at = case.filed_at
    steps = rng.random()
    if steps < 0.12:
        return
    at += timedelta(hours=rng.uniform(0.5, 30))
    if at > now:
        return
    if rng.random() < 0.8:
        history.add(Accepted, case.tenant, case.report_id, at)
        case.accepted_at, case.state = at, "accepted"
    if steps < 0.25:
        return
    at += timedelta(hours=rng.uniform(1, 120))
    if at > now:
        return
    outcome = rng.choices(list(Outcome), weights=[7, 1, 1, 1])[0]
    grade = rng.choice(list(Grade)).value if outcome == Outcome.CONFIRMED_HAZARD else None
    duplicate = {"duplicate_of": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "first_report_id": case.report_id} \
        if outcome == Outcome.DUPLICATE else {}
    history.add(Verified, case.tenant, case.report_id, at, outcome=outcome, grade=grade,
                risk_colour={"general": "yellow", "larger": "orange", "major": "red"}.get(grade), factors={} if grade else None,
                **duplicate)
    case.verified_at, case.grade = at, grade
    case.state = {Outcome.CONFIRMED_HAZARD: "verified", Outcome.VALID_NOT_HAZARD: "closed",
                  Outcome.NOT_CONFIRMED: "not_confirmed", Outcome.DUPLICATE: "duplicate"}[outcome]
    if outcome == Outcome.VALID_NOT_HAZARD:
        case.closed_at = at
    if outcome != Outcome.CONFIRMED_HAZARD:
        return
    paid_at = at + timedelta(hours=rng.uniform(1, 48))
    if paid_at <= now and rng.random() < 0.8:
        case.paid_fen, case.paid_at = rng.choice([5_000, 20_000, 100_000]), paid_at
        history.add(RewardGranted, case.tenant, case.report_id, paid_at, report_id=case.report_id, reporter=case.reporter,
                    amount_fen=case.paid_fen, outcome=outcome, grade=grade, policy="group-standard", payment_reference=f"PAY-{case.report_id[:8]}",
                    approved_by="head")
    if steps < 0.35:
        return
    deadline = at + timedelta(days=rng.choice([2, 7, 14]))
    history.add(RectificationAssigned, case.tenant, case.report_id, at, owner="maint-chen", deadline=deadline)
    case.deadline, case.state = deadline, "rectifying"
    done = at + timedelta(days=rng.uniform(0.5, 12))
    if rng.random() < 0.6 and done <= now:
        history.add(Rectified, case.tenant, case.report_id, done, measures="Fixed")
        history.add(RectificationAccepted, case.tenant, case.report_id, done + timedelta(hours=2))
        case.closed_at, case.state = done + timedelta(hours=2), "closed"
    elif deadline <= now:
        history.add(RectificationOverdue, case.tenant, case.report_id, deadline, deadline=deadline, owner="maint-chen")
        case.overdue = True
        if rng.random() < 0.6:
            history.add(EscalationRaised, case.tenant, case.report_id, deadline + timedelta(hours=1), step=1, deadline=deadline,
                        due_at=deadline, notify=())
            case.escalated = True


def monday(at: datetime) -> str:
    day = at.astimezone(ZONE).date()
    return (day - timedelta(days=day.weekday())).isoformat()


def clock_of(case: Case, clock: str) -> tuple[datetime | None, datetime | None]:
    if clock == "accept":
        return case.accepted_at or case.verified_at, accept_due(case.filed_at, POLICY)
    if clock == "verify":
        return case.verified_at, case.filed_at + timedelta(days=POLICY.verify_within_days)
    return case.closed_at, case.deadline


def next_due(case: Case) -> datetime | None:
    return {"filed": clock_of(case, "accept")[1], "accepted": clock_of(case, "verify")[1],
            "verified": case.deadline, "rectifying": case.deadline}.get(case.state)


async def test_every_figure_counts_what_the_log_says_and_drills_down_to_exactly_those_reports(store, nc, tmp_path):
    now = datetime.now(UTC).replace(microsecond=0)
    history, made, budgets = generate(now)
    for first in range(0, len(history.events), 500):
        await store.append_many(history.events[first:first + 500])
    engine = create_store_engine(f"sqlite:///{tmp_path / 'console.db'}")
    await rebuild(ProjectionRunner(projection(store), engine, store), nc)

    since = min(c.filed_at for c in made).astimezone(ZONE).date()
    until = now.astimezone(ZONE).date()
    scope = figures.Scope(TENANTS, since, until, now, ZONE)
    board = figures.dashboard(engine, scope)

    def listed(count: figures.Count) -> set[str]:
        wanted = queries.QueueFilter.parse(count.link, TENANTS)
        rows, more = queries.queue(engine, TENANTS, wanted, size=10_000, now=now, zone=ZONE)
        assert not more
        return {row["report_id"] for row in rows}

    def check(count: figures.Count, expected: set[str]) -> None:
        assert count.value == len(expected)
        assert listed(count) == expected

    # the queue's own filters still hold beside the dashboard's
    open_states = {"filed", "accepted", "verified", "rectifying", "under_review"}
    assert listed(figures.Count(0, {"state": "open"})) == {c.report_id for c in made if c.state in open_states}

    # reports per week by category and by grade
    by_category, by_grade = defaultdict(set), defaultdict(set)
    for case in made:
        by_category[(monday(case.filed_at), case.category)].add(case.report_id)
        by_grade[(monday(case.filed_at), case.grade or queries.UNGRADED)].add(case.report_id)
    assert {(w, c) for c, weeks in board.by_category.items() for w in weeks} == set(by_category)
    assert {(w, g) for g, weeks in board.by_grade.items() for w in weeks} == set(by_grade)
    for (week, category), ids in by_category.items():
        check(board.by_category[category][week], ids)
    for (week, grade), ids in by_grade.items():
        check(board.by_grade[grade][week], ids)
    assert len({g for _, g in by_grade}) >= 3 and len({c for _, c in by_category}) >= 4

    # time to accept, verify and close against the service levels
    assert {(r["tenant"], r["clock"]) for r in board.clocks} == {(t, c) for t in TENANTS for c in queries.CLOCKS}
    for row in board.clocks:
        mine = [c for c in made if c.tenant == row["tenant"]]
        measured = [(done, due, c) for c in mine for done, due in [clock_of(c, row["clock"])] if done and due]
        within = [m for m in measured if m[0] <= m[1]]
        late = {c.report_id for c in mine for done, due in [clock_of(c, row["clock"])]
                if due and ((done and done > due) or (done is None and due < now))}
        assert row["measured"] == len(measured) and row["within"] == len(within)
        spans = sorted((done - c.filed_at).total_seconds() for done, _, c in measured)
        if spans:
            assert abs(row["median_seconds"] - spans[(len(spans) - 1) // 2]) < 1
        check(row["late"], late)
    assert any(r["late"].value for r in board.clocks) and any(r["within"] for r in board.clocks)

    # overdue now and escalated
    for row in board.late:
        mine = [c for c in made if c.tenant == row["tenant"]]
        check(row["overdue"], {c.report_id for c in mine if (c.overdue and c.state != "closed") or (next_due(c) and next_due(c) < now)})
        check(row["escalated"], {c.report_id for c in mine if c.escalated})
    assert sum(r["escalated"].value for r in board.late) > 0

    # reward spend against budget, per subsidiary and year
    paid = defaultdict(set)
    for case in made:
        if case.paid_at:
            paid[(case.tenant, case.paid_at.astimezone(ZONE).year)].add(case.report_id)
    assert {(r["tenant"], r["year"]) for r in board.spend} == set(paid) | set(budgets)
    for row in board.spend:
        ids = paid.get((row["tenant"], row["year"]), set())
        assert row["paid_fen"] == sum(c.paid_fen for c in made if c.report_id in ids)
        check(row["paid"], ids)
        assert [row["budget_fen"], row["committed_fen"]] == budgets.get((row["tenant"], row["year"]), [None, 0])

    # participation: distinct reporters per subsidiary
    for row in board.participation:
        mine = [c for c in made if c.tenant == row["tenant"]]
        assert row["reporters"] == len({c.reporter for c in mine})
        check(row["reports"], {c.report_id for c in mine})

    # places that keep coming back
    at_place = defaultdict(set)
    for case in made:
        at_place[(case.tenant, *case.place)].add(case.report_id)
    recurring = sorted(((len(ids), key) for key, ids in at_place.items() if len(ids) >= 2), key=lambda x: (-x[0], x[1]))
    assert [(r["reports"].value, (r["tenant"], r["site"], r["area"], r["spot"])) for r in board.places] == recurring[:20]
    for row in board.places:
        check(row["reports"], at_place[(row["tenant"], row["site"], row["area"], row["spot"])])


async def test_one_subsidiary_and_a_shorter_period_narrow_every_figure(store, nc, tmp_path):
    now = datetime.now(UTC).replace(microsecond=0)
    history, made, _ = generate(now, count=80, seed=11)
    await store.append_many(history.events)
    engine = create_store_engine(f"sqlite:///{tmp_path / 'console.db'}")
    await rebuild(ProjectionRunner(projection(store), engine, store), nc)
    until = now.astimezone(ZONE).date()
    since = until - timedelta(days=20)
    board = figures.dashboard(engine, figures.Scope(["mine"], since, until, now, ZONE))
    chosen = [c for c in made if c.tenant == "mine" and since <= c.filed_at.astimezone(ZONE).date() <= until]
    assert [(r["tenant"], r["reports"].value) for r in board.participation] == [("mine", len(chosen))]
    assert sum(n.value for weeks in board.by_category.values() for n in weeks.values()) == len(chosen)
    assert {r["tenant"] for r in board.clocks} == {"mine"}


def test_a_drill_down_link_survives_the_queue_filter_and_unknown_values_are_dropped():
    wanted = queries.QueueFilter.parse(
        {"week": "2026-06-01", "since": "2026-05-01", "until": "2026-06-30", "site": "North", "area": "Unit 2", "spot": "Bay 3",
         "late_clock": "verify", "escalated": "1", "reward": "granted", "paid_year": "2026", "grade": "none"}, TENANTS)
    assert wanted.drilled() == {"week": "2026-06-01", "since": "2026-05-01", "until": "2026-06-30", "site": "North", "spot": "Bay 3",
                                "late_clock": "verify", "escalated": "1", "reward": "granted", "paid_year": "2026"}
    assert wanted.grade == queries.UNGRADED and wanted.area == "Unit 2"
    odd = queries.QueueFilter.parse({"week": "2026-06-02", "since": "yesterday", "late_clock": "lunch", "reward": "cash",
                                     "paid_year": "20x6"}, TENANTS)
    assert odd.drilled() == {}
    assert isinstance(date.fromisoformat("2026-06-01"), date)


def test_the_tallies_kept_step_by_step_equal_those_summed_from_the_final_cases(tmp_path):
    """Every step moves a report's tallies (weekly, per place, paid per day) from its old
    row to its new one, and each filing widens its reporter's span: what the projection
    keeps is what a rebuild or a store filled from the rows would hold."""
    from itertools import count

    from sqlalchemy import select

    from hazardloop.projections.definition import Delivery
    from hazardloop_console.store import cases, paid_tallies, place_tallies, reporters, tallies, week_figures
    from hazardloop_console.tallies import derived, summed

    now = datetime.now(UTC).replace(microsecond=0)
    history, _, _ = generate(now, count=120, seed=3)
    runner = ProjectionRunner(projection(None), create_store_engine(f"sqlite:///{tmp_path / 'console.db'}"), None)
    runner.create_schema()
    sequence = count(1)
    events = [event for event, _ in history.events]
    for first in range(0, len(events), 37):  # batches that split a report's steps
        runner.apply([Delivery(next(sequence), f"t.{e.tenant}.x.{e.aggregate_id}.{e.type}", e) for e in events[first:first + 37]])
    with runner.engine.connect() as db:
        rows = [dict(row._mapping) for row in db.execute(select(cases))]
        expected = summed(rows)
        for table in (tallies, week_figures, place_tallies, paid_tallies, reporters):
            kept = [dict(row._mapping) for row in db.execute(select(table))]
            assert sorted(map(repr, kept)) == sorted(map(repr, expected[table])), table.name
        assert all(expected.values())
    assert all({k: row[k] for k in derived(row)} == derived(row) for row in rows)
    assert any(row["turns_until"] and row["turns_until"] > now for row in rows)
    assert any(row["turns_until"] and row["turns_until"] < now for row in rows) and any(not row["turns_until"] for row in rows)


def test_a_replay_cut_short_leaves_the_sums_owed_and_the_next_step_sums_them(tmp_path):
    """A replay from an empty store leaves the sums to its end; killed before that end,
    the store says they are owed, and the first live step sums them before moving any."""
    from itertools import count

    from sqlalchemy import select

    from hazardloop.projections.definition import Delivery
    from hazardloop_console import tallies as sums
    from hazardloop_console.store import cases, paid_tallies, place_tallies, reporters, sums_owed, tallies, week_figures
    from hazardloop_console.tallies import summed

    history, _, _ = generate(datetime.now(UTC).replace(microsecond=0), count=80, seed=5)
    runner = ProjectionRunner(projection(None), create_store_engine(f"sqlite:///{tmp_path / 'console.db'}"), None)
    runner.create_schema()
    sequence = count(1)
    events = [event for event, _ in history.events]
    half = len(events) // 2

    def fold(part):
        for first in range(0, len(part), 40):
            runner.apply([Delivery(next(sequence), f"t.{e.tenant}.x.{e.aggregate_id}.{e.type}", e) for e in part[first:first + 40]])

    sums.defer(True)
    try:
        fold(events[:half])  # the replay dies here, before its end
    finally:
        sums.defer(False)
    with runner.engine.connect() as db:
        assert db.execute(select(sums_owed)).all() and not db.execute(select(tallies)).all()
    fold(events[half:])
    with runner.engine.connect() as db:
        expected = summed(dict(row._mapping) for row in db.execute(select(cases)))
        for table in (tallies, week_figures, place_tallies, paid_tallies, reporters):
            assert sorted(map(repr, (dict(row._mapping) for row in db.execute(select(table))))) == sorted(map(repr, expected[table])), table.name
        assert not db.execute(select(sums_owed)).all()


def _folded(tmp_path, now: datetime, count: int, seed: int):
    """The console's store folded from a generated history, batch by batch, without NATS."""
    from itertools import count as numbered

    from hazardloop.projections.definition import Delivery

    history, made, _ = generate(now, count=count, seed=seed)
    runner = ProjectionRunner(projection(None), create_store_engine(f"sqlite:///{tmp_path / 'console.db'}"), None)
    runner.create_schema()
    sequence = numbered(1)
    events = [event for event, _ in history.events]
    for first in range(0, len(events), 50):
        runner.apply([Delivery(next(sequence), f"t.{e.tenant}.x.{e.aggregate_id}.{e.type}", e) for e in events[first:first + 50]])
    return runner.engine, made


def test_reporters_and_places_of_any_period_count_what_the_log_says(tmp_path, monkeypatch):
    """Periods that cut through reporters' and places' histories (first and last filings
    outside, reports inside or not): distinct reporters and the recurring places are exact,
    whether the places most reported ever settle the list or every place is counted."""
    now = datetime.now(UTC).replace(microsecond=0)
    engine, made = _folded(tmp_path, now, count=200, seed=13)
    start = min(c.filed_at for c in made).astimezone(ZONE).date()
    today = now.astimezone(ZONE).date()
    day = lambda n: start + timedelta(days=n)  # noqa: E731
    periods = [(start, today), (day(30), day(44)), (day(33), day(33)),
               (today - timedelta(days=20), today), (start - timedelta(days=9), start - timedelta(days=2))]
    rows, more = queries.queue(engine, TENANTS, queries.QueueFilter(), size=10_000, now=now, zone=ZONE)
    assert not more and len(rows) == len(made)
    for shown, checked in ((20, figures.PLACES_CHECKED), (20, 4), (2, 4), (3, 6)):  # settled by the likeliest places, or not
        monkeypatch.setattr(figures, "PLACES_SHOWN", shown)
        monkeypatch.setattr(figures, "PLACES_CHECKED", checked)
        for since, until in periods:
            for tenants in (TENANTS, ["refinery"]):
                scope = figures.Scope(tenants, since, until, now, ZONE)
                board = figures.dashboard(engine, scope)
                chosen = [c for c in made if c.tenant in tenants and since <= c.filed_at.astimezone(ZONE).date() <= until]
                reporters = {t: len({c.reporter for c in chosen if c.tenant == t}) for t in tenants}
                assert {r["tenant"]: r["reporters"] for r in board.participation} == {t: n for t, n in reporters.items() if n}
                at_place = defaultdict(set)
                for case in chosen:
                    at_place[(case.tenant, *case.place)].add(case.report_id)
                recurring = sorted(((len(ids), key) for key, ids in at_place.items() if len(ids) >= 2),
                                   key=lambda x: (-x[0], x[1]))
                shown_places = [(r["reports"].value, (r["tenant"], r["site"], r["area"], r["spot"])) for r in board.places]
                assert shown_places == recurring[:shown]
                for row in board.places:
                    wanted = queries.QueueFilter.parse(row["reports"].link, TENANTS)
                    listed, _ = queries.queue(engine, TENANTS, wanted, size=10_000, now=now, zone=ZONE)
                    assert {r["report_id"] for r in listed} == at_place[(row["tenant"], row["site"], row["area"], row["spot"])]


def test_rewards_paid_between_any_two_instants_are_those_the_log_granted(tmp_path):
    """A year of any zone begins and ends within a UTC day: the whole UTC days between come
    from the day's sums and the hours either side from the rows, and together they are exact."""
    now = datetime.now(UTC).replace(microsecond=0)
    engine, made = _folded(tmp_path, now, count=200, seed=17)
    paid = [c for c in made if c.paid_at]
    rng = random.Random(5)
    instants = [c.paid_at for c in rng.sample(paid, 6)] + [
        min(c.filed_at for c in made) + timedelta(hours=rng.uniform(0, 24 * 70)) for _ in range(10)]
    spans = [(a, b) for a in instants for b in instants if a < b] + [(now - timedelta(weeks=20), now)]
    with engine.connect() as db:
        for start, end in spans:
            expected = defaultdict(lambda: (0, 0))
            for case in paid:
                if start <= case.paid_at < end:
                    fen, count = expected[case.tenant]
                    expected[case.tenant] = (fen + case.paid_fen, count + 1)
            assert figures.paid_between(db, TENANTS, start, end) == dict(expected)
    assert len(paid) > 20
