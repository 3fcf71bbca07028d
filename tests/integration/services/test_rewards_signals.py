"""Fraud signals through the rewards projection on a real broker: the generated subsidiary's
planted cases are raised; a projection that stops half-way and starts again ends exactly
where one clean rebuild does; a reviewer's dismissal lands on the signal, and a new
matching report opens it again."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from bench.signals import append_all
from bench.signals_data import TENANT, generate
from hazardloop.events import (
    GENESIS_HASH,
    FrequentPairRule,
    Location,
    NearDuplicatesRule,
    ReportFiled,
    SignalDismissed,
    SignalRule,
    SignalRules,
    SignalRulesSet,
)
from hazardloop.privacy.sealing import text_token
from hazardloop.projections import ProjectionRunner
from hazardloop.projections.db import create_store_engine
from hazardloop.projections.definition import Delivery
from hazardloop.projections.replay import catch_up, rebuild
from hazardloop_rewards.projection import projection
from hazardloop_rewards.signals.seen import signal_id
from hazardloop_rewards.signals.shown import all_counted, counted, counted_one
from hazardloop_rewards.store import signal_decisions, signal_evidence, signals, signals_owed

SIGNAL_TABLES = (signals, signal_evidence, signal_decisions)


def rows(engine) -> dict[str, list[tuple]]:
    with engine.connect() as db:
        return {table.name: sorted(tuple(row) for row in db.execute(select(table))) for table in SIGNAL_TABLES}


async def fill(store, events) -> None:
    await append_all(store, events, 2000)


async def test_signals_survive_a_stop_half_way_and_equal_a_clean_rebuild(store, nc, tmp_path):
    generated = generate(1, seed=5)
    await fill(store, generated.events)
    half = (await store.last_sequence()) // 2

    stopped = create_store_engine(f"sqlite:///{tmp_path / 'stopped.db'}")
    first = ProjectionRunner(projection(store), stopped, store, react=False)
    first.create_schema()
    await catch_up(first, nc, until_sequence=half)
    again = ProjectionRunner(projection(store), stopped, store, react=False)  # a new process: counts again from its store
    again.create_schema()
    await catch_up(again, nc)

    clean = create_store_engine(f"sqlite:///{tmp_path / 'clean.db'}")
    await rebuild(ProjectionRunner(projection(store), clean, store, react=False), nc)
    assert rows(stopped) == rows(clean)

    with clean.connect() as db:
        raised = {(row.rule, row.reporter) for row in db.execute(select(signals))}
    for rule in (SignalRule.ROUTINE_DUTY, SignalRule.FREQUENT_PAIR, SignalRule.NEAR_DUPLICATES, SignalRule.PERIOD_END_BURST):
        planted = {subject[0] for subject in generated.truth[rule]}
        assert planted <= {reporter for kind, reporter in raised if kind == rule.value}, rule


async def test_a_dismissal_covers_the_evidence_it_saw_and_a_new_matching_report_opens_the_signal_again(store, nc, tmp_path):
    reporter = "p-" + "cd" * 16
    at = generate(1).events[-1].occurred_at

    def filed(days: int) -> ReportFiled:
        return ReportFiled.record(
            prev_hash=GENESIS_HASH, tenant=TENANT, aggregate_id=f"dup-{days}", actor="reporter:x", occurred_at=at + timedelta(days=days),
            category="unsafe_equipment", subtype="other", description="Valve leaks again",
            location=Location(site="North", area="Pump house", spot="P-101", equipment_tag="P-101"),
            observed_at=at + timedelta(days=days), reporter=reporter,
        )  # fmt: skip

    engine = create_store_engine(f"sqlite:///{tmp_path / 'rewards.db'}")
    runner = ProjectionRunner(projection(store), engine, store, react=False)
    runner.create_schema()
    await fill(store, [filed(0), filed(2), filed(4)])
    await catch_up(runner, nc)
    with engine.connect() as db:
        [signal] = counted(db, TENANT, report_ids=["dup-0"], reporters=[])
    assert (signal.rule, signal.evidence, signal.status) == (SignalRule.NEAR_DUPLICATES, ["dup-0", "dup-2", "dup-4"], "open")

    dismissal = SignalDismissed.record(
        prev_hash=GENESIS_HASH, tenant=TENANT, aggregate_id=signal.signal_id, actor="head-liu", rule=signal.rule,
        evidence=tuple(signal.evidence), reason="Three separate leaks, each confirmed on site.",
    )  # fmt: skip
    await store.append(dismissal, expected_version=0)
    await catch_up(runner, nc)
    with engine.connect() as db:
        seen = counted_one(db, signal.signal_id)
    assert (seen.status, seen.decided_by, seen.reason) == ("dismissed", "head-liu", text_token(TENANT, dismissal.reason))

    await store.append(filed(6), expected_version=0)
    await catch_up(runner, nc)
    with engine.connect() as db:
        grown = counted_one(db, signal.signal_id)
    assert grown.status == "open" and grown.evidence == ["dup-0", "dup-2", "dup-4", "dup-6"]


async def test_a_batch_that_fails_half_way_is_counted_once_when_applied_again(store, nc, tmp_path):
    """The counters a failed batch touched are dropped with its transaction: applied again one
    by one, the store ends as a clean rebuild leaves it."""
    reporter, at = "p-" + "ab" * 16, generate(1).events[-1].occurred_at
    filings = [
        ReportFiled.record(
            prev_hash=GENESIS_HASH, tenant=TENANT, aggregate_id=f"leak-{n}", actor="reporter:x", occurred_at=at + timedelta(days=n),
            category="unsafe_equipment", subtype="other", description="Flange leaks",
            location=Location(site="North", area="Tank farm", spot="F-2", equipment_tag="F-2"), observed_at=at, reporter=reporter,
        )
        for n in range(3)
    ]  # fmt: skip
    await fill(store, filings)
    built, failures = projection(store), {"left": 1}
    counted = built.handlers[ReportFiled]

    def fails_once_on_the_last(event, db) -> None:
        counted(event, db)
        if event.aggregate_id == "leak-2" and failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("a glitch after the counters moved")

    flaky = ProjectionRunner(replace(built, handlers={**built.handlers, ReportFiled: fails_once_on_the_last}),
                             create_store_engine(f"sqlite:///{tmp_path / 'flaky.db'}"), store, react=False, retry_base_delay=0.001)  # fmt: skip
    flaky.create_schema()
    await flaky.process([Delivery(n + 1, "s", event) for n, event in enumerate(filings)])
    assert failures["left"] == 0 and flaky.position == 3

    clean = create_store_engine(f"sqlite:///{tmp_path / 'clean.db'}")
    await rebuild(ProjectionRunner(projection(store), clean, store, react=False), nc)
    assert rows(flaky.engine) == rows(clean)
    with clean.connect() as db:
        [signal] = all_counted(db, TENANT, 10)
    assert signal.figures["reports"] == 3 and signal.evidence == ["leak-0", "leak-1", "leak-2"]


async def test_a_rebuild_raises_the_same_signals_as_counting_live_event_by_event(store, nc, tmp_path):
    """A rebuild leaves the signals to one pass at its end; a live runner counts each event as
    it comes. Over the same log (a subsidiary's six months, then near-duplicates dismissed and
    a further one opening the signal again) both leave the same signal rows."""
    reporter, at = "p-" + "ef" * 16, generate(1).events[-1].occurred_at

    def filed(days: int) -> ReportFiled:
        return ReportFiled.record(
            prev_hash=GENESIS_HASH, tenant=TENANT, aggregate_id=f"again-{days}", actor="reporter:x", occurred_at=at + timedelta(days=days),
            category="unsafe_equipment", subtype="other", description="Valve leaks again",
            location=Location(site="North", area="Pump house", spot="P-7", equipment_tag="P-7"),
            observed_at=at + timedelta(days=days), reporter=reporter,
        )  # fmt: skip

    first = [filed(0), filed(2), filed(4)]
    subject = (reporter, "tag:p-7", "unsafe_equipment")
    dismissal = SignalDismissed.record(
        prev_hash=GENESIS_HASH, tenant=TENANT, aggregate_id=signal_id(TENANT, SignalRule.NEAR_DUPLICATES, *subject), actor="head-liu",
        occurred_at=at + timedelta(days=5), rule=SignalRule.NEAR_DUPLICATES, evidence=tuple(e.aggregate_id for e in first),
        reason="Three separate leaks, each confirmed on site.",
    )  # fmt: skip
    events = [*generate(1, seed=11).events, *first, dismissal, filed(6)]
    await fill(store, events)

    live = ProjectionRunner(projection(store), create_store_engine(f"sqlite:///{tmp_path / 'live.db'}"), store, react=False)
    live.create_schema()
    deliveries = [Delivery(n + 1, "s", event) for n, event in enumerate(events)]
    for start in range(0, len(deliveries), 200):  # as the live consumer hands them over
        await live.process(deliveries[start : start + 200])

    rebuilt = create_store_engine(f"sqlite:///{tmp_path / 'rebuilt.db'}")
    await rebuild(ProjectionRunner(projection(store), rebuilt, store, react=False), nc)
    assert rows(live.engine) == rows(rebuilt)
    with rebuilt.connect() as db:
        reopened = counted_one(db, dismissal.aggregate_id)
        raised = {row.rule for row in db.execute(select(signals))}
    assert reopened.status == "open" and reopened.evidence == ["again-0", "again-2", "again-4", "again-6"]
    assert raised == {rule.value for rule in SignalRule if rule != SignalRule.UNUSUAL_PLACE}


async def test_rules_set_half_way_through_the_log_apply_from_there_on_in_a_rebuild_as_live(store, nc, tmp_path):
    """What a rebuild owes is raised by the rules before a new setting; the rest by the new ones."""
    events = list(generate(1, seed=13).events)
    half = len(events) // 2
    stricter = SignalRules(near_duplicates=NearDuplicatesRule(window_days=30, min_reports=2), frequent_pair=FrequentPairRule(min_pairs=3))
    rules = SignalRulesSet.record(prev_hash=GENESIS_HASH, tenant=TENANT, aggregate_id="signals", actor="head-liu",
                                  occurred_at=events[half].occurred_at, rules=stricter)  # fmt: skip
    events.insert(half, rules)
    await fill(store, events)

    live = ProjectionRunner(projection(store), create_store_engine(f"sqlite:///{tmp_path / 'live.db'}"), store, react=False)
    live.create_schema()
    deliveries = [Delivery(n + 1, "s", event) for n, event in enumerate(events)]
    for start in range(0, len(deliveries), 200):
        await live.process(deliveries[start : start + 200])

    rebuilt = create_store_engine(f"sqlite:///{tmp_path / 'rebuilt.db'}")
    await rebuild(ProjectionRunner(projection(store), rebuilt, store, react=False), nc)
    assert rows(live.engine) == rows(rebuilt)
    with rebuilt.connect() as db:
        at = {row.signal_id: row.raised_at for row in db.execute(select(signals).where(signals.c.rule == SignalRule.NEAR_DUPLICATES.value))}
    assert min(at.values()) < rules.occurred_at < max(at.values())  # raised under both settings


async def test_a_rebuild_stopped_before_its_end_leaves_the_signals_owed_and_the_next_run_raises_them(store, nc, tmp_path):
    generated = generate(1, seed=17)
    await fill(store, generated.events)
    half = (await store.last_sequence()) // 2

    stopped = create_store_engine(f"sqlite:///{tmp_path / 'stopped.db'}")
    built = projection(store)
    first = ProjectionRunner(replace(built, settle=None), stopped, store, react=False)  # stops before its end's pass
    first.create_schema()
    await catch_up(first, nc, until_sequence=half)
    with stopped.connect() as db:
        assert db.execute(select(signals_owed)).all() and not db.execute(select(signals)).all()
    again = ProjectionRunner(projection(store), stopped, store, react=False)
    again.create_schema()
    await catch_up(again, nc)

    clean = create_store_engine(f"sqlite:///{tmp_path / 'clean.db'}")
    await rebuild(ProjectionRunner(projection(store), clean, store, react=False), nc)
    assert rows(stopped) == rows(clean)
    with stopped.connect() as db:
        assert not db.execute(select(signals_owed)).all()
