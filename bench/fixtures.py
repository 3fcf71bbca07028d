"""Realistic events, built before any clock starts so timing sees only the system."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hazardloop.events import (
    GENESIS_HASH,
    Category,
    Event,
    Grade,
    Outcome,
    Rectified,
    ReportFiled,
    RewardGranted,
    Verified,
)

TENANTS = ("refinery", "mine", "steelmill")
SITES = ("North works", "South works", "Harbour depot", "Shaft 2", "Coke plant")
AREAS = ("Pipe rack 3", "Tank farm", "Conveyor gallery", "Blast furnace cast house", "Sour water unit")
HAZARDS = (
    "Gas detector reads zero and its alarm light is off; looks bypassed.",
    "Contractor welding on the rack without a hot-work permit or fire watch.",
    "Guard missing on the tail pulley of the conveyor; walkway passes within reach.",
    "Emergency shower has no water pressure; the valve is seized.",
    "Scaffold tag expired two weeks ago and the toe boards are missing on level 3.",
)
MEASURES = (
    "Detector replaced and recalibrated; bypass removed; alarm tested with the operator.",
    "Work stopped, permit issued, fire watch posted, contractor briefed on hot-work rules.",
    "Guard refitted and interlocked; area supervisor reminded to check guards each shift.",
)


def reporters(count: int, rng: random.Random) -> list[str]:
    """Pseudonyms in the stored format, reused across reports as real reporters are."""
    return [f"p-{rng.getrandbits(128):032x}" for _ in range(count)]


def filing(rng: random.Random, reporter: str, now: datetime, *, tenant: str | None = None) -> ReportFiled:
    """One new report on a fresh aggregate, as intake would record it."""
    return ReportFiled.record(
        prev_hash=GENESIS_HASH,
        tenant=tenant or rng.choice(TENANTS),
        aggregate_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        actor=f"reporter:{reporter}",
        event_id=uuid.UUID(int=rng.getrandbits(128), version=4),
        occurred_at=now,
        category=rng.choice(list(Category)),
        subtype="other",
        description=rng.choice(HAZARDS),
        location={"site": rng.choice(SITES), "area": rng.choice(AREAS), "spot": f"Bay {rng.randint(1, 40)}"},
        observed_at=now - timedelta(minutes=rng.randint(1, 120)),
        reporter=reporter,
    )


def filings(count: int, seed: int = 1) -> list[ReportFiled]:
    """``count`` ReportFiled events on distinct new aggregates."""
    rng = random.Random(seed)
    people = reporters(max(1, count // 20), rng)
    now = datetime.now(UTC)
    return [filing(rng, rng.choice(people), now) for _ in range(count)]


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """One report's whole life: filed, verified, rectified, rewarded."""

    filed: ReportFiled
    verified: Verified
    rectified: Rectified
    granted: RewardGranted

    @property
    def stages(self) -> tuple[Event, Event, Event, Event]:
        return self.filed, self.verified, self.rectified, self.granted


def lifecycle(rng: random.Random, reporter: str, now: datetime, *, tenant: str | None = None) -> Lifecycle:
    """Four chained events per report, hashes linked as the services link them."""
    filed = filing(rng, reporter, now, tenant=tenant)
    grade = rng.choice(list(Grade))
    common = {"tenant": filed.tenant, "aggregate_id": filed.aggregate_id}
    verified = Verified.record(
        prev_hash=filed.hash,
        actor="verifier:safety-officer",
        occurred_at=now + timedelta(hours=2),
        outcome=Outcome.CONFIRMED_HAZARD,
        grade=grade,
        risk_colour={Grade.GENERAL: "yellow", Grade.LARGER: "orange", Grade.MAJOR: "red"}[grade],
        factors={},
        comment="Confirmed on site by the safety desk.",
        **common,
        **filed.caused(),
    )
    rectified = Rectified.record(
        prev_hash=verified.hash,
        actor="rectifier:area-supervisor",
        occurred_at=now + timedelta(days=1),
        measures=rng.choice(MEASURES),
        **common,
        **verified.caused(),
    )
    granted = RewardGranted.record(
        prev_hash=GENESIS_HASH,
        tenant=filed.tenant,
        aggregate_id=filed.aggregate_id,
        actor="system:rewards",
        event_id=verified.derived_id("reward"),
        occurred_at=now + timedelta(hours=3),
        report_id=filed.aggregate_id,
        reporter=reporter,
        amount_fen={Grade.GENERAL: 5_000, Grade.LARGER: 20_000, Grade.MAJOR: 100_000}[grade],
        outcome=Outcome.CONFIRMED_HAZARD,
        grade=grade,
        policy="group-standard-2024",
        payment_reference=f"PAY-{filed.aggregate_id[:8]}",
        approved_by="head:safety-department",
        **verified.caused(),
    )
    return Lifecycle(filed, verified, rectified, granted)


def lifecycles(count: int, seed: int = 2) -> list[Lifecycle]:
    rng = random.Random(seed)
    people = reporters(max(1, count // 20), rng)
    now = datetime.now(UTC)
    return [lifecycle(rng, rng.choice(people), now) for _ in range(count)]
