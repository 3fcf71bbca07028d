"""Signals as reviewers see them: read from the projection's rows, each with its status
(open, dismissed, confirmed) from the reviewers' last decision; and the unusual-place
signal, judged at the time from the directory's work places and the reporter's filings."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Connection, or_, select

from hazardloop.events import SignalRule, SignalRules
from hazardloop_rewards.signals import places
from hazardloop_rewards.signals.seen import Filing, signal_id
from hazardloop_rewards.store import reports, signal_decisions, signal_evidence, signal_rules, signals, work_places

Holder = Callable[[str, str, list[str]], Awaitable[str | None]]
"""``(tenant, pseudonym, people)``: which of the people holds the pseudonym (the pseudonym directory)."""


class SignalView(BaseModel):
    signal_id: str
    tenant: str
    rule: SignalRule
    reporter: str | None
    """The reporter it is about, as a pseudonym (none for a team's signal)."""
    subject: list[str]
    evidence: list[str]
    """The reports that show it."""
    figures: dict[str, Any]
    raised_at: datetime
    updated_at: datetime
    status: Literal["open", "dismissed", "confirmed"]
    """Dismissed only while no report was added since; then open again."""
    decided_by: str | None = None
    reason: str | None = None
    """The reviewer's reason (a dismissal) or note (a confirmation)."""


def rules_of(db: Connection, tenant: str) -> SignalRules:
    found = db.execute(select(signal_rules.c.rules).where(signal_rules.c.tenant == tenant)).scalar()
    return SignalRules.model_validate_json(found) if found else SignalRules()


def _status(evidence_count: int, decision: Any) -> dict[str, Any]:
    if decision is None:
        return {"status": "open"}
    open_again = decision.status == "dismissed" and decision.covered < evidence_count
    return {"status": "open" if open_again else decision.status, "decided_by": decision.decided_by, "reason": decision.reason}


def _decisions(db: Connection, ids: Iterable[str]) -> dict[str, Any]:
    ids = list(ids)
    if not ids:
        return {}
    return {row.signal_id: row for row in db.execute(select(signal_decisions).where(signal_decisions.c.signal_id.in_(ids)))}


def _evidence(db: Connection, ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {signal: [] for signal in ids}
    if ids:
        query = select(signal_evidence).where(signal_evidence.c.signal_id.in_(ids)).order_by(signal_evidence.c.signal_id, signal_evidence.c.report_id)
        for row in db.execute(query):
            found[row.signal_id].append(row.report_id)
    return found


def _views(db: Connection, rows: list[Any]) -> list[SignalView]:
    decisions = _decisions(db, (row.signal_id for row in rows))
    evidence = _evidence(db, [row.signal_id for row in rows])
    return [
        SignalView(
            signal_id=row.signal_id, tenant=row.tenant, rule=row.rule, reporter=row.reporter, subject=row.subject,
            evidence=evidence[row.signal_id], figures=row.figures, raised_at=row.raised_at, updated_at=row.updated_at,
            **_status(row.evidence_count, decisions.get(row.signal_id)),
        )
        for row in rows
    ]  # fmt: skip


def counted(db: Connection, tenant: str, *, report_ids: list[str], reporters: list[str]) -> list[SignalView]:
    """The counted signals that name one of the reports, or are about one of the reporters."""
    named = select(signal_evidence.c.signal_id).where(signal_evidence.c.report_id.in_(report_ids))
    query = select(signals).where(signals.c.tenant == tenant, or_(signals.c.signal_id.in_(named), signals.c.reporter.in_(reporters)))
    return _views(db, list(db.execute(query.order_by(signals.c.raised_at, signals.c.signal_id))))


def all_counted(db: Connection, tenant: str, limit: int) -> list[SignalView]:
    query = select(signals).where(signals.c.tenant == tenant).order_by(signals.c.updated_at.desc(), signals.c.signal_id).limit(limit)
    return _views(db, list(db.execute(query)))


def counted_one(db: Connection, signal: str) -> SignalView | None:
    rows = list(db.execute(select(signals).where(signals.c.signal_id == signal)))
    return _views(db, rows)[0] if rows else None


# --- judged when shown: places the reporter never works in ------------------------------------------


def people_with_places(db: Connection, tenant: str) -> dict[str, list[str]]:
    rows = db.execute(select(work_places).where(work_places.c.tenant == tenant, work_places.c.places != "[]"))
    return {row.person: json.loads(row.places) for row in rows}


def filings_of(db: Connection, tenant: str, reporter: str) -> list[Filing]:
    query = select(reports).where(reports.c.tenant == tenant, reports.c.reporter == reporter, reports.c.filed_at.is_not(None))
    return [Filing(r.report_id, r.reporter, r.filed_at, r.place_key or "", r.category or "", r.site, r.area) for r in db.execute(query)]


def place_signal(db: Connection, tenant: str, reporter: str, work: list[str], rules: SignalRules) -> SignalView | None:
    """The unusual-place signal on ``reporter``, whose work places are ``work``."""
    filings = filings_of(db, tenant, reporter)
    finding = places.finding(reporter, filings, work, rules.unusual_place)
    if finding is None:
        return None
    when = {f.report_id: f.at for f in filings}
    at = [when[report] for report in finding.evidence]
    identity = signal_id(tenant, SignalRule.UNUSUAL_PLACE, reporter)
    return SignalView(
        signal_id=identity, tenant=tenant, rule=SignalRule.UNUSUAL_PLACE, reporter=reporter, subject=[reporter],
        evidence=list(finding.evidence), figures=finding.figures, raised_at=min(at), updated_at=max(at),
        **_status(len(finding.evidence), _decisions(db, [identity]).get(identity)),
    )  # fmt: skip
