"""The signals a replay from an empty store left to its end, raised in one pass.

Counting per event cost a rebuild about a third of its rate, and most of it went on
counters that never come near a rule's threshold. At the end the whole history is known,
so the pass first picks, per rule, the subjects that can reach it at all (a place filed
``min_reports`` times, a reporter with that many filings within the last days' span, a
pair proposed ``min_pairs`` times, a team big enough), and runs the rules' own counters,
in the log's order, only for them. Every rule's state is a function of its own subject's
history (a pair's expectation also of the subsidiary's totals, which are counted for
every proposal), so the findings, and the rows written, are the ones counting per event
gives. The filings and proposals come as the replay noted them (the log's order); after
an abandoned batch, from the store's rows in time order, as a restart counts them. The
counters are not kept: the next live event counts again from the store.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, select

from hazardloop.events import SignalRules
from hazardloop_rewards.signals.bursts import DAY
from hazardloop_rewards.signals.seen import Filing, Finding, Rewarded
from hazardloop_rewards.store import reports, rewards, signal_evidence, signal_rules

Raise = Callable[[str, Finding, datetime], None]
"""``(tenant, finding, when)``: write what a rule found, as the book does per event."""


class Filed(NamedTuple):
    """What the rules read of a filing, as the replay saw it or as ``reward_reports`` keeps it."""

    tenant: str
    report_id: str
    reporter: str
    filed_at: datetime
    place_key: str
    category: str
    site: str
    area: str
    team: str | None


class Proposed(NamedTuple):
    """What the rules read of a reward proposal (its report's team comes from the filing)."""

    tenant: str
    report_id: str
    reporter: str
    proposer: str
    proposed_fen: int
    routine: bool
    proposed_at: datetime


def from_store(db: Connection) -> tuple[list[Filed], list[Proposed]]:
    """The filings and proposals as the store keeps them, in time order (the log's, but for
    events stamped out of order: a replay that saw the log uses its own order instead)."""
    filings = select(reports.c.tenant, reports.c.report_id, reports.c.reporter, reports.c.filed_at, reports.c.place_key,
                     reports.c.category, reports.c.site, reports.c.area, reports.c.team)  # fmt: skip
    filed = [Filed(*row) for row in db.execute(filings.order_by(reports.c.filed_at, reports.c.report_id))]
    proposals = (
        select(rewards.c.tenant, rewards.c.report_id, rewards.c.reporter, rewards.c.proposer, rewards.c.proposed_fen,
               rewards.c.breakdown, rewards.c.proposed_at)
        .where(rewards.c.proposer.is_not(None))
        .order_by(rewards.c.proposed_at, rewards.c.report_id)
    )  # fmt: skip
    proposed = [Proposed(*row[:5], _routine(row.breakdown), row.proposed_at) for row in db.execute(proposals)]
    return filed, proposed


def raise_all(db: Connection, subsidiaries: Any, known: dict[str, set[str]], found: Raise, filed: Iterable[Filed], proposed: Iterable[Proposed]) -> None:
    """Run the rules over the filings and proposals (each in log order), raising each finding."""
    for row in db.execute(select(signal_rules)):
        subsidiaries[row.tenant].rules = SignalRules.model_validate_json(row.rules)
    for row in db.execute(select(signal_evidence)):
        known.setdefault(row.signal_id, set()).add(row.report_id)
    by_tenant: dict[str, list[Any]] = defaultdict(list)
    teams: dict[str, str | None] = {}
    for filing in filed:
        teams[filing.report_id] = filing.team
        if filing.filed_at is not None:  # a report from before the rules read its time
            by_tenant[filing.tenant].append(filing)
    for tenant, rows in by_tenant.items():
        _filings(tenant, rows, subsidiaries[tenant], found)
    by_tenant = defaultdict(list)
    for proposal in proposed:
        by_tenant[proposal.tenant].append(proposal)
    for tenant, rows in by_tenant.items():
        _proposals(tenant, rows, teams, subsidiaries[tenant], found)


def _filings(tenant: str, rows: list[Any], subsidiary: Any, found: Raise) -> None:
    rules = subsidiary.rules
    duplicate, burst = rules.near_duplicates, rules.period_end_burst
    places: set[tuple[str, str, str]] = set()
    if duplicate.enabled:
        counts = Counter((row.reporter, row.place_key or "", row.category or "") for row in rows)
        places = {key for key, count in counts.items() if count >= duplicate.min_reports}
    bursting: set[str] = set()
    if burst.enabled:
        times: dict[str, list[float]] = defaultdict(list)
        for row in rows:
            times[row.reporter].append(row.filed_at.timestamp())
        span, need = burst.last_days * DAY, burst.min_reports
        bursting = {reporter for reporter, at in times.items() if any(at[i + need - 1] - at[i] <= span for i in range(len(at) - need + 1))}
    for row in rows:
        key = (row.reporter, row.place_key or "", row.category or "")
        in_places, in_burst = key in places, row.reporter in bursting
        if not (in_places or in_burst):
            continue
        filing = Filing(row.report_id, row.reporter, row.filed_at, key[1], key[2], row.site, row.area)
        for finding in (subsidiary.duplicates.observe(filing, duplicate) if in_places else None,
                        subsidiary.bursts.observe(filing, burst) if in_burst else None):  # fmt: skip
            if finding is not None:
                found(tenant, finding, row.filed_at)


def _routine(breakdown: str | None) -> bool:
    return bool(breakdown) and "routine_duty" in breakdown and any(line.get("rule") == "routine_duty" for line in json.loads(breakdown))


def _proposals(tenant: str, rows: list[Any], teams_of: dict[str, str | None], subsidiary: Any, found: Raise) -> None:
    rules = subsidiary.rules
    routine_rule, pair_rule, team_rule = rules.routine_duty, rules.frequent_pair, rules.team_concentration
    rewarded = [Rewarded(row.report_id, row.reporter, row.proposer, row.proposed_fen, row.routine, teams_of.get(row.report_id), row.proposed_at)
                for row in rows]  # fmt: skip
    routine: set[str] = set()
    if routine_rule.enabled:
        routine = {who for who, count in Counter(r.reporter for r in rewarded if r.routine).items() if count >= routine_rule.min_rewards}
    pairs: set[tuple[str, str]] = set()
    if pair_rule.enabled:
        pairs = {pair for pair, count in Counter((r.reporter, r.verifier) for r in rewarded).items() if count >= pair_rule.min_pairs}
    teams: set[str] = set()
    if team_rule.enabled:
        people: dict[str, set[str]] = defaultdict(set)
        counts: Counter[str] = Counter()
        for r in rewarded:
            if r.team is not None:
                people[r.team.casefold()].add(r.reporter)
                counts[r.team.casefold()] += 1
        teams = {team for team, count in counts.items() if count >= team_rule.min_rewards and len(people[team]) >= team_rule.min_reporters}
    for reward in rewarded:
        findings = [subsidiary.routine.observe(reward, routine_rule) if reward.reporter in routine else None]
        if (reward.reporter, reward.verifier) in pairs:
            findings.append(subsidiary.pairs.observe(reward, pair_rule))
        else:
            subsidiary.pairs.count(reward)  # a pair's expectation counts every proposal
        if reward.team is not None and reward.team.casefold() in teams:
            findings.append(subsidiary.concentration.observe(reward, team_rule))
        for finding in findings:
            if finding is not None:
                found(tenant, finding, reward.at)
