"""The possible-duplicate check runs at every filing: it must stay a range of an index.

A busy spot gathers thousands of reports over the years; the check wants only its reports
of one category within the window. Read through the place (or equipment) index alone, it
walked all of them, and so slowed every filing there as the years went by.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, event

from hazardloop_intake import queries
from hazardloop_intake.store import metadata


def plans(equipment_tag: str | None) -> list[str]:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    asked: list[tuple[str, tuple]] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, parameters, _ctx, _many: asked.append((statement, parameters)))
    with engine.connect() as db:
        queries.possible_duplicate(db, tenant="refinery", category="fire", place_id="p-1", equipment_tag=equipment_tag,
                                   since=datetime(2026, 1, 1, tzinfo=UTC))
        [(statement, parameters)] = asked
        return [row[3] for row in db.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]


@pytest.mark.parametrize("equipment_tag", [None, "P-101"])
def test_the_check_seeks_the_spot_and_the_equipment_by_category_and_time(equipment_tag) -> None:
    searched = [step for step in plans(equipment_tag) if step.startswith(("SEARCH", "SCAN"))]
    expected = ["SEARCH intake_reports USING INDEX ix_intake_reports_place_recent (place_id=? AND category=? AND filed_at>?)"]
    if equipment_tag:
        expected.append("SEARCH intake_reports USING INDEX ix_intake_reports_equipment_recent (equipment_tag=? AND category=? AND filed_at>?)")
    assert searched == expected
