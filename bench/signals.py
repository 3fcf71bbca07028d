"""``python -m bench.signals``: how well each fraud-signal rule does on generated data, and
what the signals cost the rewards projection's rebuild.

Quality: the generated subsidiary (``bench.signals_data``) goes through the rewards
projection as the service runs it (SQLite, batches of 5,000), the unusual-place rule is
judged as a reward view judges it, and each rule's signals are compared with the cases
planted: true cases caught, and false alarms (signals on anyone or any team not planted
for that rule).

Cost: the same kind of log, larger, in a fresh nats-server; the rewards projection is
rebuilt from it with and without signals, in turns (each first every other round), as ``bench.replay`` times
rebuilds (events applied per second, the rebuilt store checked).
"""

from __future__ import annotations

import argparse
import gc
import asyncio
import json
import tempfile
from collections import defaultdict
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench import replay
from bench.signals_data import TENANT, Generated, generate
from bench.stats import median
from hazardloop.events import GENESIS_HASH, DirectoryEntrySet, Event, ReportFiled, SignalRule, SignalRules, SignalRulesSet
from hazardloop.log.eventstore import EventStore
from hazardloop.log.natsserver import NatsServer
from hazardloop.projections import Writer
from hazardloop.projections.db import create_store_engine
from hazardloop.projections.definition import Delivery
from hazardloop_rewards.projection import projection
from hazardloop_rewards.signals import places
from hazardloop_rewards.signals.seen import filing_of
from hazardloop_rewards.store import signals

BATCH = 5000


def signals_raised(generated: Generated, workdir: Path, rules: SignalRules = SignalRules()) -> dict[SignalRule, set[tuple[str, ...]]]:
    """Per rule, the subjects it raised signals on, by the projection itself (and, for
    unusual places, as a reward view judges it)."""
    engine = create_store_engine(f"sqlite:///{workdir / 'signals-quality.db'}")
    built = projection(None)  # type: ignore[arg-type]  # no reactions run here
    built.metadata.create_all(engine)
    events = list(generated.events)
    if rules != SignalRules():
        events.insert(0, SignalRulesSet.record(prev_hash=GENESIS_HASH, tenant=TENANT, aggregate_id="signals", actor="bench", occurred_at=events[0].occurred_at, rules=rules))
    for start in range(0, len(events), BATCH):
        with engine.begin() as connection:
            writer = Writer(connection)
            batch = [Delivery(start + n + 1, "generated", event) for n, event in enumerate(events[start : start + BATCH])]
            built.handle(writer, batch, after=0)
            writer.flush()
    raised: dict[SignalRule, set[tuple[str, ...]]] = defaultdict(set)
    with engine.connect() as db:
        for row in db.execute(select(signals.c.rule, signals.c.subject, signals.c.reporter)):
            rule = SignalRule(row.rule)
            subject = tuple(row.subject)
            if rule in (SignalRule.NEAR_DUPLICATES, SignalRule.PERIOD_END_BURST):
                subject = (row.reporter,)  # per reporter, however many places or periods
            raised[rule].add(subject)
    engine.dispose()
    filings = [filing_of(e) for e in generated.events if isinstance(e, ReportFiled)]
    by_reporter = defaultdict(list)
    for filing in filings:
        by_reporter[filing.reporter].append(filing)
    for reporter, work in generated.work_places.items():
        if places.finding(reporter, by_reporter[reporter], work, rules.unusual_place) is not None:
            raised[SignalRule.UNUSUAL_PLACE].add((reporter,))
    return raised


def quality(generated: Generated, raised: dict[SignalRule, set[tuple[str, ...]]]) -> dict[str, dict[str, int]]:
    table = {}
    for rule in SignalRule:
        planted, found = generated.truth[rule], raised.get(rule, set())
        table[rule.value] = {"planted": len(planted), "caught": len(planted & found), "false_alarms": len(found - planted)}
    return table


async def append_all(store: EventStore, events: list[Event], size: int = BATCH) -> None:
    """Append the events in log order with ``append_many`` calls of at most ``size``, none
    holding two events of one aggregate, each guarded by its aggregate's last sequence."""
    last: dict[tuple[str, str], int] = {}
    call: list[Event] = []

    async def send() -> None:
        items = [(event, last.get((event.aggregate_type, event.aggregate_id), 0)) for event in call]
        for event, appended in zip(call, await store.append_many(items), strict=True):
            last[(event.aggregate_type, event.aggregate_id)] = appended.sequence

    held: set[tuple[str, str]] = set()
    for event in events:
        key = (event.aggregate_type, event.aggregate_id)
        if key in held or len(call) >= size:
            await send()
            call, held = [], set()
        call.append(event)
        held.add(key)
    if call:
        await send()


async def _fill(url: str, events: list[Event]) -> int:
    import nats

    nc = await nats.connect(url)
    try:
        store = EventStore(nc, timeout=10.0)
        await store.ensure_stream()
        await append_all(store, events)
        return await store.last_sequence()
    finally:
        await nc.close()


async def rebuild_rates(size: int, runs: int, workdir: Path) -> dict[str, Any]:
    generated = generate(size)
    filings = len(generated.filings)
    server = NatsServer(workdir / "nats").start()
    try:
        # the directory's entries are left out: a projection without signals does not read
        # them, and a rebuild is checked to apply every event in the log
        total = await _fill(server.url, [e for e in generated.events if not isinstance(e, DirectoryEntrySet)])
        del generated
        check = (replay.Check("SELECT count(*) FROM reward_reports", filings),)
        targets = [
            replay.Target("without signals", partial(projection, signals=False), check),
            replay.Target("with signals", projection, check),
        ]
        rates: dict[str, list[float]] = {target.name: [] for target in targets}
        for index in range(runs):
            for target in targets if index % 2 == 0 else targets[::-1]:  # neither always runs first
                gc.collect()
                run = await replay.rebuild_run(server.url, target, workdir / f"{target.name.replace(' ', '-')}-{index}.db", total)
                if not run.ok:
                    raise RuntimeError(f"{target.name}: {run.problem}")
                rates[target.name].append(run.rate)
    finally:
        server.stop()
    without, with_ = median(rates["without signals"]), median(rates["with signals"])
    return {"events": total, "runs": rates, "without": without, "with": with_, "cost_percent": round(100 * (1 - with_ / without), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1, help="copies of the generated subsidiary for the quality table")
    parser.add_argument("--rebuild-size", type=int, default=30, help="copies for the rebuild measurement (0: skip it)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        generated = generate(args.size)
        table = quality(generated, signals_raised(generated, workdir))
        result: dict[str, Any] = {"tenant": TENANT, "events": len(generated.events), "people": len(generated.people), "quality": table}
        if args.rebuild_size:
            result["rebuild"] = asyncio.run(rebuild_rates(args.rebuild_size, args.runs, workdir))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
