"""A deterministic subsidiary for measuring the fraud-signal rules: honest reporters, with
true cases of each pattern planted among them, as the events the log would hold.

Six months (January to June 2026) of one subsidiary: three sites, a safety department
of six verifiers who take reports as they come, teams of about eight. Honest people
report at their own rate, mostly at their own site, now and then a finding within their
own routine duties; every report is verified, three in four confirmed, which proposes a
reward by the default policy (the others' rewards are declined by policy), so the log
holds what the rewards projection reads of a real one: filings, verifications, reward
decisions. Planted among them, each a different person or team:

- routine duties: four people whose rewards are four in five for their own routine duties;
- frequent pair: four people whose reports one particular verifier proposes nine times in ten;
- near-duplicates: four people who file one piece of equipment, same category, four
  times within ten days;
- period-end burst: four people who file six reports in the last four days of a month;
- unusual place: four people who file three reports at a site their directory entry
  does not list;
- team concentration: three teams where two people take most of the rewards.

``truth`` says which subjects were planted for which rule, so a measurement can count
true cases caught and false alarms.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hazardloop.events import (
    GENESIS_HASH,
    BreakdownLine,
    Category,
    DirectoryEntrySet,
    Event,
    Grade,
    Outcome,
    PersonEntry,
    ReportFiled,
    RewardDeclined,
    RewardPolicy,
    RewardProposed,
    SignalRule,
    Verified,
)
from hazardloop_rewards.policy import percent

TENANT = "refinery"
START = datetime(2026, 1, 1, tzinfo=UTC) - timedelta(hours=8)  # midnight in the group's zone
WEEKS = 26
SITES = ("North works", "South works", "Harbour depot")
AREAS = ("Pipe rack", "Tank farm", "Compressor house", "Loading bay", "Control room")
VERIFIERS = tuple(f"safety-{n}" for n in range(6))
POLICY = RewardPolicy()
BASE = {Grade.GENERAL: POLICY.base.general, Grade.LARGER: POLICY.base.larger, Grade.MAJOR: POLICY.base.major}
PLANTED_PEOPLE = 4
"""Planted people per rule (of a, b, c, d, e) at the base size; teams for f are three."""


@dataclass
class Person:
    subject: str
    pseudonym: str
    team: str
    site: str
    rate: float
    """Reports a week."""
    routine: float = 0.08
    majors: float = 0.05
    verifier: str | None = None
    """A verifier who proposes most of their rewards (a planted pair)."""


@dataclass
class Generated:
    events: list[Event] = field(default_factory=list)
    """In the order the log would hold them."""
    people: list[Person] = field(default_factory=list)
    truth: dict[SignalRule, set[tuple[str, ...]]] = field(default_factory=lambda: defaultdict(set))
    """Per rule, the subjects planted: a reporter (pseudonym), (reporter, verifier) for a pair, a team."""
    work_places: dict[str, list[str]] = field(default_factory=dict)
    """Per pseudonym, the places their directory entry lists."""

    @property
    def filings(self) -> list[ReportFiled]:
        return [e for e in self.events if isinstance(e, ReportFiled)]


class _Maker:
    def __init__(self, rng: random.Random, out: Generated) -> None:
        self.rng, self.out = rng, out
        self.tags = {site: [f"{site[:1]}{n:03d}".replace(" ", "") for n in range(80)] for site in SITES}
        self.pending: list[Event] = []

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def file(self, person: Person, at: datetime, *, site: str | None = None, tag: str | None = None, category: Category | None = None) -> None:
        rng = self.rng
        site = site or (person.site if rng.random() < 0.95 else rng.choice(SITES))
        tag = tag or (rng.choice(self.tags[site]) if rng.random() < 0.5 else None)
        location = {"site": site, "area": rng.choice(AREAS), "spot": f"Bay {rng.randint(1, 40)}"} | ({"equipment_tag": tag} if tag else {})
        filed = ReportFiled.record(
            prev_hash=GENESIS_HASH, tenant=TENANT, aggregate_id=self.uid(), actor=f"reporter:{person.pseudonym}",
            event_id=uuid.UUID(int=rng.getrandbits(128), version=4), occurred_at=at,
            category=category or rng.choice(list(Category)), subtype="other", description="generated",
            location=location, observed_at=at - timedelta(minutes=30), reporter=person.pseudonym, team=person.team,
        )  # fmt: skip
        self.pending.append(filed)
        verified_at = at + timedelta(hours=rng.randint(2, 60))
        if rng.random() < 0.75:
            self.propose(person, filed, verified_at)
        else:  # not confirmed: verified, and no reward due
            checked = Verified.record(
                prev_hash=filed.hash, tenant=TENANT, aggregate_id=filed.aggregate_id, actor=rng.choice(VERIFIERS),
                event_id=uuid.UUID(int=rng.getrandbits(128), version=4), occurred_at=verified_at, outcome=Outcome.NOT_CONFIRMED,
            )  # fmt: skip
            declined = RewardDeclined.record(
                prev_hash=GENESIS_HASH, tenant=TENANT, aggregate_id=filed.aggregate_id, actor="policy:rewards",
                event_id=uuid.UUID(int=rng.getrandbits(128), version=4), occurred_at=verified_at + timedelta(seconds=1),
                report_id=filed.aggregate_id, reporter=person.pseudonym, reason="verification outcome: not_confirmed",
            )  # fmt: skip
            self.pending += [checked, declined]

    def propose(self, person: Person, filed: ReportFiled, at: datetime) -> None:
        rng = self.rng
        roll = rng.random()
        grade = Grade.MAJOR if roll < person.majors else Grade.LARGER if roll < person.majors + 0.25 else Grade.GENERAL
        verifier = person.verifier if person.verifier and rng.random() < 0.9 else rng.choice(VERIFIERS)
        amount = BASE[grade]
        lines = [BreakdownLine(rule="base", detail=f"a confirmed {grade.value} hazard", amount_fen=amount)]
        routine = rng.random() < person.routine
        if routine:
            amount = percent(amount, POLICY.routine_duty_percent)
            lines.append(BreakdownLine(rule="routine_duty", detail="within the reporter's routine duties: 50%", amount_fen=amount))
        colour = {Grade.GENERAL: "yellow", Grade.LARGER: "orange", Grade.MAJOR: "red"}[grade]
        self.pending.append(
            Verified.record(
                prev_hash=filed.hash, tenant=TENANT, aggregate_id=filed.aggregate_id, actor=verifier,
                event_id=uuid.UUID(int=rng.getrandbits(128), version=4), occurred_at=at - timedelta(seconds=1),
                outcome=Outcome.CONFIRMED_HAZARD, grade=grade, risk_colour=colour, factors={}, within_routine_duties=routine,
            )
        )  # fmt: skip
        self.pending.append(
            RewardProposed.record(
                prev_hash=GENESIS_HASH, tenant=TENANT, aggregate_id=filed.aggregate_id, actor="policy:rewards",
                event_id=uuid.UUID(int=rng.getrandbits(128), version=4), occurred_at=at, report_id=filed.aggregate_id,
                reporter=person.pseudonym, proposer=verifier, outcome=Outcome.CONFIRMED_HAZARD, grade=grade, amount_fen=amount,
                breakdown=tuple(lines), policy=POLICY.name, cap_fen=POLICY.cap_fen,
            )
        )  # fmt: skip

    def weeks_of(self, person: Person) -> None:
        for week in range(WEEKS):
            filed = sum(1 for _ in range(7) if self.rng.random() < person.rate / 7)
            for _ in range(filed):
                self.file(person, START + timedelta(weeks=week, days=self.rng.random() * 7))


def generate(size: int = 1, seed: int = 7) -> Generated:
    """``size`` × (80 honest people in ten teams, and the planted cases), deterministic per ``seed``."""
    rng, out = random.Random(seed), Generated()
    maker = _Maker(rng, out)
    people: list[Person] = []
    number = 0

    def person(team: str, **traits: object) -> Person:
        nonlocal number
        number += 1
        site = SITES[int(team.rsplit("-", 1)[1]) % len(SITES)]
        made = Person(f"emp-{number:05d}", f"p-{rng.getrandbits(128):032x}", team, site, rng.uniform(0.2, 1.0))
        for name, value in traits.items():
            setattr(made, name, value)
        people.append(made)
        return made

    for copy in range(size):
        teams = [f"team-{copy * 13 + n}" for n in range(13)]
        honest = [person(teams[n % 10]) for n in range(80)]
        planted: dict[SignalRule, list[Person]] = {
            SignalRule.ROUTINE_DUTY: [person(rng.choice(teams[:10]), routine=0.8, rate=0.8) for _ in range(PLANTED_PEOPLE)],
            SignalRule.FREQUENT_PAIR: [person(rng.choice(teams[:10]), verifier=rng.choice(VERIFIERS), rate=0.8) for _ in range(PLANTED_PEOPLE)],
            SignalRule.NEAR_DUPLICATES: [person(rng.choice(teams[:10])) for _ in range(PLANTED_PEOPLE)],
            SignalRule.PERIOD_END_BURST: [person(rng.choice(teams[:10]), rate=rng.uniform(0.2, 0.6)) for _ in range(PLANTED_PEOPLE)],
            SignalRule.UNUSUAL_PLACE: [person(rng.choice(teams[:10])) for _ in range(PLANTED_PEOPLE)],
        }
        favoured: list[Person] = []
        for team in teams[10:]:  # three teams where two people take most of it
            favoured += [person(team, rate=2.0, majors=0.3) for _ in range(2)]
            for _ in range(6):
                person(team, rate=0.2)
            out.truth[SignalRule.TEAM_CONCENTRATION].add((team,))
        for rule, chosen in planted.items():
            for one in chosen:
                subject = (one.pseudonym, one.verifier) if rule == SignalRule.FREQUENT_PAIR else (one.pseudonym,)
                out.truth[rule].add(subject)
        del honest, favoured
        for one in planted[SignalRule.NEAR_DUPLICATES]:
            at = START + timedelta(days=rng.uniform(10, 160))
            tag, category = rng.choice(maker.tags[one.site]), rng.choice(list(Category))
            for k in range(4):
                maker.file(one, at + timedelta(days=k * 3, hours=rng.uniform(0, 8)), site=one.site, tag=tag, category=category)
        for one in planted[SignalRule.PERIOD_END_BURST]:
            month_end = datetime(2026, rng.randint(2, 6) + 1, 1, tzinfo=UTC) - timedelta(hours=8)
            for k in range(6):
                maker.file(one, month_end - timedelta(days=4) + timedelta(hours=k * 15 + rng.uniform(0, 5)))
        for one in planted[SignalRule.UNUSUAL_PLACE]:
            elsewhere = rng.choice([site for site in SITES if site != one.site])
            for _ in range(3):
                maker.file(one, START + timedelta(days=rng.uniform(0, 180)), site=elsewhere)
    for one in people:
        maker.weeks_of(one)
        out.work_places[one.pseudonym] = [one.site]
    directory = [
        DirectoryEntrySet.record(
            prev_hash=GENESIS_HASH, tenant=TENANT, aggregate_id=f"person-{one.subject}", actor="hr-import",
            event_id=uuid.UUID(int=rng.getrandbits(128), version=4), occurred_at=START - timedelta(days=1),
            entry=PersonEntry(person=one.subject, work_places=(one.site,)),
        )
        for one in people
    ]  # fmt: skip
    out.events = directory + sorted(maker.pending, key=lambda event: (event.occurred_at, str(event.event_id)))
    out.people = people
    return out
