"""The event catalogue the documentation shows is read from the code: every event type,
and for each, who appends it and which services' projections consume it."""

from __future__ import annotations

import pytest

from hazardloop.events import EVENT_TYPES
from hazardloop.tools.eventcatalogue import render_catalogue
from hazardloop.tools.registry import SERVICES, projection_factory


@pytest.fixture(scope="module")
def catalogue() -> str:
    return render_catalogue()


@pytest.fixture(scope="module")
def rows(catalogue: str) -> dict[str, dict[str, set[str]]]:
    """The summary table: event type -> column -> the services named there."""
    table = {}
    for line in catalogue.splitlines():
        if not line.startswith("| [`"):
            continue
        event, _aggregate, appended, applied, reacted = (cell.strip() for cell in line.strip("|").split("|"))
        names = lambda cell: {name.strip() for name in cell.split(",")} - {"—"}  # noqa: E731
        table[event.split("`")[1]] = {"appended": names(appended), "applied": names(applied), "reacted": names(reacted)}
    return table


def test_every_event_type_has_its_row_and_its_section(catalogue: str, rows: dict) -> None:
    for kind in EVENT_TYPES:
        assert kind.__name__ in rows
        assert f"## `{kind.__name__}`" in catalogue


def test_every_consumer_in_the_code_is_named(rows: dict) -> None:
    consumed = 0
    for service in SERVICES:
        built = projection_factory(service)(None)
        for kind in built.handlers:
            assert service in rows[kind.__name__]["applied"], (kind.__name__, service)
            consumed += 1
        for kind in built.reactions:
            assert service in rows[kind.__name__]["reacted"], (kind.__name__, service)
    assert consumed > len(EVENT_TYPES)


def test_what_readers_rely_on(rows: dict) -> None:
    assert rows["ReportFiled"]["appended"] == {"intake"}
    assert rows["ReportFiled"]["applied"] == set(SERVICES)
    assert rows["Verified"]["reacted"] == {"rewards"}
    assert rows["RewardGranted"]["appended"] == {"rewards"}
    assert rows["CaseworkPolicySet"]["appended"] == {"verification"}
    assert rows["RewardPolicySet"]["appended"] == {"rewards"}
    assert rows["RangeSealed"]["appended"] == {"notifications"}  # on a schedule; operators' command line too


def test_fields_come_from_the_contracts(catalogue: str) -> None:
    granted = catalogue.split("## `RewardGranted`")[1].split("\n## ")[0]
    for field in ("amount_fen", "payment_reference", "channel", "approved_by"):
        assert f"| `{field}` |" in granted
    assert "| `hash` |" not in granted  # the envelope is listed once, not per event
