"""The triage queue over several subsidiaries: oldest first across them, ties by report id,
at most ``limit``, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, insert

from hazardloop_verification import queries
from hazardloop_verification.domain import Stage
from hazardloop_verification.store import cases, metadata

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def case(report_id: str, tenant: str, minutes: int, stage: Stage = Stage.FILED) -> dict[str, object]:
    return {
        "report_id": report_id, "tenant": tenant, "category": "electrical", "subtype": "exposed_wiring", "description": "d",
        "site": "s", "area": "a", "spot": "x", "reporter": "p", "filed_at": START + timedelta(minutes=minutes),
        "stage": stage.value, "sla_breaches": "",
    }


def test_the_queue_interleaves_subsidiaries_oldest_first_and_stops_at_the_limit(database_url: str) -> None:
    engine = create_engine(database_url)
    metadata.create_all(engine)
    rows = [
        case("r-b", "refinery", 5), case("r-a", "mine", 5),  # filed at the same instant: by report id
        case("r-c", "refinery", 1), case("r-d", "plant", 3), case("r-e", "mine", 9), case("r-f", "plant", 12),
        case("r-g", "refinery", 0, Stage.VERIFIED),  # another stage
        case("r-h", "elsewhere", 0),  # a subsidiary not asked for
    ]
    with engine.begin() as db:
        db.execute(insert(cases), rows)
    try:
        def queue(tenants: list[str], limit: int) -> list[str]:
            return [found["report_id"] for found in queries.at_stage(engine, tenants, Stage.FILED, limit)]

        everyone = ["refinery", "mine", "plant"]
        assert queue(everyone, 100) == ["r-c", "r-d", "r-a", "r-b", "r-e", "r-f"]
        assert queue(everyone, 4) == ["r-c", "r-d", "r-a", "r-b"]
        assert queue(["refinery"], 100) == ["r-c", "r-b"]
        assert queue([], 100) == []
        assert queries.at_stage(engine, ["refinery"], Stage.VERIFIED, 10)[0]["filed_at"] == START
    finally:
        metadata.drop_all(engine)
        engine.dispose()
