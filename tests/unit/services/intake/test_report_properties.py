"""Property-based checks of the report schema: any input is accepted whole or refused by field, never crashes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hazardloop.events import SUBTYPES, Category, Channel, PlaceKind, decode_event, encode_event, hash_is_intact
from hazardloop_intake.domain import FileReport, Place, Reporter, file_report, locate

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
SPOT = Place("bay-3", PlaceKind.SPOT, "North", "Pipe rack", "Bay 3", None, retired=False)

anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
text = st.text(st.characters(codec="utf-8"), max_size=300)
printable = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=300).filter(lambda s: s.strip())
kinds = st.sampled_from([(c.value, s) for c, subtypes in SUBTYPES.items() for s in subtypes])

bodies = st.fixed_dictionaries(
    {
        "tenant": st.sampled_from(["refinery", "mine", "Refinery", "", "a.b"]),
        "kind": kinds,
        "description": text,
        "place_id": st.sampled_from(["bay-3", "bay 3", "BAY", "x" * 70]),
        "observed_at": st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)).map(
            lambda d: d.isoformat()
        ) | text,
        "channel": st.sampled_from([c.value for c in Channel] + ["fax"]),
        "anonymous": st.booleans(),
    },
    optional={
        "spot_detail": text,
        "cause_analysis": text,
        "suggested_fix": text,
        "emergency_action": text,
        "equipment_tag": text,
        "reporter": st.fixed_dictionaries({"employee_number": text}, optional={"name": text, "phone": text}),
        "attachments": st.lists(st.sampled_from(["a" * 64, "b" * 64, "nope"]), max_size=3),
        "surprise": anything,
    },
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies)
def test_any_body_is_either_a_valid_report_or_a_validation_error_naming_fields(body):
    category, subtype = body.pop("kind")
    body |= {"category": category, "subtype": subtype}
    try:
        command = FileReport.model_validate_json(json.dumps(body))
    except ValidationError as refused:
        assert all(error["loc"] for error in refused.errors())  # every complaint names where
        return
    assert "surprise" not in body and command.category == Category(category)


@settings(max_examples=200, deadline=None)
@given(kinds, printable, st.integers(1, 60 * 24 * 300), st.booleans())
def test_every_accepted_report_becomes_an_event_that_survives_storage(kind, description, minutes_ago, anonymous):
    category, subtype = kind
    command = FileReport(
        tenant="refinery", category=category, subtype=subtype, description=description, place_id="bay-3",
        observed_at=NOW - timedelta(minutes=minutes_ago), anonymous=anonymous,
    )
    reporter = Reporter("p-" + "0" * 32, None, "f" * 64 if anonymous else None, None)
    event = file_report(
        command, report_id="r-1", event_id=uuid.uuid4(), location=locate(command, SPOT), reporter=reporter, attachments=[],
        possible_duplicate_of=None, now=NOW,
    )
    data = encode_event(event)
    assert decode_event(data) == event and hash_is_intact(json.loads(data))
