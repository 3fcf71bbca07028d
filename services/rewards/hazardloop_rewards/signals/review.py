"""A reviewer's decisions on a signal, and a subsidiary's signal rules: aggregates rebuilt
from their histories, deciding what commands append.

A signal is derived from the log (only its being raised is recorded, once), so a
decision names what the reviewer saw: the signal's id, rule and evidence as rewards
shows them. A dismissal covers that evidence; a later matching report makes the signal
open again, and it can be dismissed again. A confirmation is final. Nobody decides a signal about themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hazardloop.errors import Invalid
from hazardloop.events import GENESIS_HASH, Event, SignalConfirmed, SignalDismissed, SignalRule, SignalRules, SignalRulesSet
from hazardloop.log.eventstore import History
from hazardloop_rewards.domain import NotAllowed

RULES_ID = "signals"
"""The id of a subsidiary's one signal-rules aggregate."""


@dataclass(frozen=True, slots=True)
class SignalSeen:
    """A signal as rewards shows it when a reviewer decides on it."""

    signal_id: str
    tenant: str
    rule: SignalRule
    reporter: str | None
    evidence: tuple[str, ...]


@dataclass
class SignalReview:
    signal_id: str
    tenant: str
    status: str | None = None
    covered: int = 0
    last_hash: str = GENESIS_HASH

    @classmethod
    def from_history(cls, tenant: str, signal_id: str, history: History) -> SignalReview:
        review = cls(signal_id, tenant)
        for stored in history.events:
            match stored.event:
                case SignalDismissed(evidence=evidence):
                    review.status, review.covered = "dismissed", len(evidence)
                case SignalConfirmed(evidence=evidence):
                    review.status, review.covered = "confirmed", len(evidence)
            review.last_hash = stored.event.hash
        return review

    def _allowed(self, seen: SignalSeen, pseudonym: str | None) -> None:
        if seen.reporter is not None and pseudonym == seen.reporter:
            raise NotAllowed("a reviewer cannot decide a signal about their own reports", state=self.status or "open")
        if self.status == "confirmed":
            raise NotAllowed("this signal was confirmed; a confirmation stands", state="confirmed")

    def dismiss(self, seen: SignalSeen, *, reason: str, actor: str, pseudonym: str | None, now: datetime) -> list[Event]:
        self._allowed(seen, pseudonym)
        if self.status == "dismissed" and self.covered >= len(seen.evidence):
            raise NotAllowed("this signal was already dismissed, and no report was added to it since", state="dismissed")
        if not reason.strip():
            raise Invalid("a dismissal needs a reason", field="reason")
        return [self._next(SignalDismissed, seen, actor=actor, now=now, reason=reason)]

    def confirm(self, seen: SignalSeen, *, note: str | None, actor: str, pseudonym: str | None, now: datetime) -> list[Event]:
        self._allowed(seen, pseudonym)
        return [self._next(SignalConfirmed, seen, actor=actor, now=now, note=note)]

    def _next(self, kind: type[Event], seen: SignalSeen, *, actor: str, now: datetime, **payload: object) -> Event:
        return kind.record(
            prev_hash=self.last_hash, tenant=self.tenant, aggregate_id=self.signal_id, actor=actor, occurred_at=now,
            rule=seen.rule, evidence=seen.evidence, **payload,
        )  # fmt: skip


@dataclass
class SignalRulesVersions:
    tenant: str
    rules: SignalRules
    last_hash: str = GENESIS_HASH

    @classmethod
    def from_history(cls, tenant: str, history: History) -> SignalRulesVersions:
        versions = cls(tenant, SignalRules())
        for stored in history.events:
            if isinstance(stored.event, SignalRulesSet):
                versions.rules = stored.event.rules
            versions.last_hash = stored.event.hash
        return versions

    def set(self, rules: SignalRules, *, actor: str, now: datetime) -> list[Event]:
        """The new parameters, from the next event on; the ones in force already record nothing (a PUT)."""
        if rules == self.rules and self.last_hash != GENESIS_HASH:
            return []
        return [SignalRulesSet.record(prev_hash=self.last_hash, tenant=self.tenant, aggregate_id=RULES_ID, actor=actor, occurred_at=now, rules=rules)]
