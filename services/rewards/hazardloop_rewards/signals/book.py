"""Every subsidiary's signal rules and counters, kept by the rewards projection.

The counters live in memory, so a filing or a proposal costs a few dictionary updates
and no read of the store; only what a rule finds is written (the signal and its
evidence). They are not stored as such: on its first event the book counts them again
from the rows the projection keeps anyway (filings, proposals), and whenever the
runner abandons a batch or finds the checkpoint moved it is ``reset`` and counts again
from what was committed. Either way it holds exactly what replaying the log would.

A replay from an empty store (a rebuild) counts nothing per event: told to ``defer``, the
book only marks the signals owed (``signals_owed``) and raises them at the replay's end
in one pass over the same rows (``settle``). Whoever meets the mark first (the end, a new
rule set, or a live event after a replay that stopped half-way) runs that pass, so the
store ends as counting per event leaves it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from hazardloop.events import (
    DirectoryEntryRemoved,
    DirectoryEntrySet,
    PersonEntry,
    ReportFiled,
    ReportTextShredded,
    RewardDeclined,
    RewardProposed,
    SignalConfirmed,
    SignalDismissed,
    SignalRules,
    SignalRulesSet,
)
from hazardloop.privacy.sealing import ERASED, text_token
from hazardloop.projections import Writer
from hazardloop_rewards.signals.bursts import Bursts
from hazardloop_rewards.signals.concentration import Concentration
from hazardloop_rewards.signals.duplicates import NearDuplicates
from hazardloop_rewards.signals.pairing import Pairs
from hazardloop_rewards.signals.routine import RoutineDuties
from hazardloop_rewards.signals.seen import Filing, Finding, Rewarded, filing_of, place_key, rewarded_of, within_routine_duties
from hazardloop_rewards.signals.settle import Filed, Proposed, from_store, raise_all
from hazardloop_rewards.store import reports, rewards, signal_decisions, signal_evidence, signal_rules, signals, signals_owed, work_places


_UNKNOWN = object()


@dataclass
class Subsidiary:
    """One subsidiary's rules and the counters its rules keep."""

    rules: SignalRules = field(default_factory=SignalRules)
    routine: RoutineDuties = field(default_factory=RoutineDuties)
    pairs: Pairs = field(default_factory=Pairs)
    duplicates: NearDuplicates = field(default_factory=NearDuplicates)
    bursts: Bursts = field(default_factory=Bursts)
    concentration: Concentration = field(default_factory=Concentration)

    def rewarded(self, reward: Rewarded) -> tuple[Finding | None, ...]:
        rules = self.rules
        return (
            self.routine.observe(reward, rules.routine_duty),
            self.pairs.observe(reward, rules.frequent_pair),
            self.concentration.observe(reward, rules.team_concentration),
        )

    def horizon(self) -> timedelta:
        """How far back the filing rules look."""
        burst = self.rules.period_end_burst
        return timedelta(days=max(self.rules.near_duplicates.window_days, burst.usual_days + burst.last_days))


class SignalBook:
    def __init__(self) -> None:
        self.deferring = False
        self.owed_noted: bool | None = False
        """Whether this run wrote the owed mark: None once a batch was abandoned (it may be gone)."""
        self.reset()

    def defer(self, on: bool) -> None:
        """A replay from an empty store starts (``on``) or ends: counting is left to ``settle``."""
        self.deferring, self.owed_noted = on, False
        self.reset()
        if on:
            self.seen = ({}, {})

    def settle(self, db: Writer) -> bool:
        """Raise the signals owed, from the store's rows (this batch's flushed first); True if any were."""
        if db.get(signals_owed, owed=1) is None:
            return False
        db.flush()
        filed, proposed = (self.seen[0].values(), self.seen[1].values()) if self.seen is not None else from_store(db.connection)
        self.reset()
        raise_all(db.connection, self.subsidiaries, self.known, lambda tenant, finding, at: self._raise(db, tenant, finding, at), filed, proposed)
        db.flush()
        db.connection.execute(signals_owed.delete())
        self.reset()  # the pass kept only what could fire: count again from the store
        self.owed_noted = False
        return True

    def _owe(self, db: Writer) -> None:
        if self.owed_noted is None:
            self.owed_noted = db.get(signals_owed, owed=1) is not None
        if not self.owed_noted:
            db.insert(signals_owed, owed=1)
            self.owed_noted = True

    def reset(self) -> None:
        """Forget everything counted: the next event counts again from the store."""
        self.loaded = False
        if self.owed_noted:
            self.owed_noted = None
        self.seen: tuple[dict[str, Filed], dict[str, Proposed]] | None = None
        """A replay's filings and proposals in the log's order, while it defers; dropped with
        an abandoned batch (the store's rows, in time order, stand in)."""
        self.subsidiaries: dict[str, Subsidiary] = defaultdict(Subsidiary)
        self.known: dict[str, set[str]] = {}
        """Each signal raised: the reports it names."""
        self.ids: dict[tuple[str, Any, tuple[str, ...]], str] = {}
        """Signal ids as computed (a name-based UUID each)."""
        self.teams: dict[str, str | None] = {}
        """The team given on each filing not proposed a reward yet."""

    # --- the projection's handlers --------------------------------------------------------

    def filed(self, event: ReportFiled, db: Writer, place: str | None = None) -> None:
        if self.deferring:
            if self.seen is not None:
                location = event.location
                self.seen[0][event.aggregate_id] = Filed(event.tenant, event.aggregate_id, event.reporter, event.occurred_at,
                                                         place or place_key(event), event.category.value, location.site, location.area, event.team)  # fmt: skip
            self._owe(db)
            return
        if not self.loaded and self._load(db):
            return  # the signals owed were raised, this filing's among them
        self.teams[event.aggregate_id] = event.team
        subsidiary, filing = self.subsidiaries[event.tenant], filing_of(event, place)
        rules = subsidiary.rules
        for finding in (subsidiary.duplicates.observe(filing, rules.near_duplicates), subsidiary.bursts.observe(filing, rules.period_end_burst)):
            if finding is not None:
                self._raise(db, event.tenant, finding, event.occurred_at)

    def proposed(self, event: RewardProposed, db: Writer) -> None:
        if self.deferring:
            if self.seen is not None:
                self.seen[1][event.report_id] = Proposed(event.tenant, event.report_id, event.reporter, event.proposer, event.amount_fen,
                                                         within_routine_duties(event), event.occurred_at)  # fmt: skip
            self._owe(db)
            return
        if not self.loaded and self._load(db):
            return  # the signals owed were raised, this proposal's among them
        team = self.teams.pop(event.report_id, _UNKNOWN)
        if team is _UNKNOWN:  # filed before this book counted: the store has it
            row = db.get(reports, report_id=event.report_id)
            team = row.team if row is not None else None
        for finding in self.subsidiaries[event.tenant].rewarded(rewarded_of(event, team)):
            if finding is not None:
                self._raise(db, event.tenant, finding, event.occurred_at)

    def declined(self, event: RewardDeclined, db: Writer) -> None:
        """No reward for the report: its team is no longer needed."""
        self.teams.pop(event.report_id, None)

    def rules_set(self, event: SignalRulesSet, db: Writer) -> None:
        """Signals owed are raised by the rules before this set; a replay then counts per event.
        The counters are counted again from the store, this batch's rows flushed first (counting
        on top of those in memory would count every filing and proposal twice)."""
        self.deferring = False
        self.settle(db)
        db.flush()
        self.reset()
        self._load(db)
        self.subsidiaries[event.tenant].rules = event.rules
        values = {"rules": event.rules.model_dump_json(), "set_by": event.actor, "set_at": event.occurred_at}
        _upsert(db, signal_rules, {"tenant": event.tenant}, values)

    # --- decisions and the directory: the store only ------------------------------------------

    @staticmethod
    def decided(event: SignalDismissed | SignalConfirmed, db: Writer) -> None:
        dismissed = isinstance(event, SignalDismissed)
        values = {
            "tenant": event.tenant,
            "status": "dismissed" if dismissed else "confirmed",
            "covered": len(event.evidence),
            "decided_by": event.actor,
            "reason": text_token(event.tenant, event.reason if dismissed else event.note),
            "decided_at": event.occurred_at,
        }
        _upsert(db, signal_decisions, {"signal_id": event.aggregate_id}, values)

    @staticmethod
    def directory_set(event: DirectoryEntrySet, db: Writer) -> None:
        if isinstance(event.entry, PersonEntry):
            places = json.dumps(list(event.entry.work_places), ensure_ascii=False)
            _upsert(db, work_places, {"tenant": event.tenant, "person": event.entry.person}, {"places": places})

    @staticmethod
    def directory_removed(event: DirectoryEntryRemoved, db: Writer) -> None:
        if event.kind == "person" and db.get(work_places, tenant=event.tenant, person=event.name) is not None:
            db.update(work_places, {"tenant": event.tenant, "person": event.name}, places="[]")

    @staticmethod
    def text_shredded(event: ReportTextShredded, db: Writer) -> None:
        """A decision's reason is sealed under the first report its signal named: erased with it."""
        db.flush()
        prefix = f"sealed:v1:{event.tenant}:{event.aggregate_id}:"
        table = signal_decisions
        db.connection.execute(table.update().where(table.c.tenant == event.tenant, table.c.reason.startswith(prefix, autoescape=True)).values(reason=ERASED))

    # --- inside ---------------------------------------------------------------------------

    def _raise(self, db: Writer, tenant: str, finding: Finding, at: datetime) -> None:
        """Write what a rule found: a new signal, or new evidence on a known one."""
        key = (tenant, finding.rule, finding.subject)
        signal_id = self.ids.get(key)
        if signal_id is None:
            signal_id = self.ids[key] = finding.signal_id(tenant)
        known = self.known.get(signal_id)
        new = [report for report in finding.evidence if known is None or report not in known]
        if not new:
            return
        values = {"figures": finding.figures, "updated_at": at}  # JSON: written once per batch, as it stands last
        if known is None:
            known = self.known[signal_id] = set()
            db.insert(signals, signal_id=signal_id, tenant=tenant, rule=finding.rule.value, reporter=finding.reporter,
                      subject=list(finding.subject), raised_at=at, evidence_count=0, **values)  # fmt: skip
        known.update(new)
        db.update(signals, {"signal_id": signal_id}, evidence_count=len(known), **values)
        for report in new:
            db.insert(signal_evidence, signal_id=signal_id, report_id=report)

    def _load(self, db: Writer) -> bool:
        """Count again from the store; True if signals owed were raised first (this batch's rows with them)."""
        settled = self.settle(db)
        count_from_store(self, db.connection)
        self.loaded = True
        return settled


def _upsert(db: Writer, table: Any, key: dict[str, Any], values: dict[str, Any]) -> None:
    if db.get(table, **key) is None:
        db.insert(table, **key, **values)
    else:
        db.update(table, key, **values)


def count_from_store(book: SignalBook, db: Connection) -> None:
    """Count again what the log has shown so far, from the projection's own rows."""
    for row in db.execute(select(signal_rules)):
        book.subsidiaries[row.tenant].rules = SignalRules.model_validate_json(row.rules)
    for row in db.execute(select(signal_evidence)):
        book.known.setdefault(row.signal_id, set()).add(row.report_id)
    latest = dict(db.execute(select(reports.c.tenant, func.max(reports.c.filed_at)).group_by(reports.c.tenant)).all())
    for tenant, last in latest.items():
        if last is None:
            continue
        subsidiary = book.subsidiaries[tenant]
        quiet = subsidiary.rules.model_copy(update={
            "near_duplicates": subsidiary.rules.near_duplicates.model_copy(update={"enabled": False}),
            "period_end_burst": subsidiary.rules.period_end_burst.model_copy(update={"enabled": False}),
        })  # fmt: skip
        query = (
            select(reports.c.report_id, reports.c.reporter, reports.c.filed_at, reports.c.place_key, reports.c.category, reports.c.site, reports.c.area)
            .where(reports.c.tenant == tenant, reports.c.filed_at >= last - subsidiary.horizon())
            .order_by(reports.c.filed_at, reports.c.report_id)
        )
        for row in db.execute(query):
            filing = Filing(row.report_id, row.reporter, row.filed_at, row.place_key, row.category, row.site, row.area)
            subsidiary.duplicates.observe(filing, quiet.near_duplicates)
            subsidiary.bursts.observe(filing, quiet.period_end_burst)
    proposals = (
        select(rewards.c.tenant, rewards.c.report_id, rewards.c.reporter, rewards.c.proposer, rewards.c.proposed_fen, rewards.c.breakdown, reports.c.team)
        .join(reports, reports.c.report_id == rewards.c.report_id, isouter=True)
        .where(rewards.c.proposer.is_not(None))
        .order_by(rewards.c.proposed_at, rewards.c.report_id)
    )
    for row in db.execute(proposals):
        routine = any(line.get("rule") == "routine_duty" for line in json.loads(row.breakdown or "[]"))
        reward = Rewarded(row.report_id, row.reporter, row.proposer, row.proposed_fen, routine, row.team)
        subsidiary = book.subsidiaries[row.tenant]
        subsidiary.routine.count(reward)
        subsidiary.pairs.count(reward)
        subsidiary.concentration.count(reward)
