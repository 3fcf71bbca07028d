"""Property-based checks of the contracts: any valid event survives storage and detects edits."""

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from hazardloop.events import (
    GENESIS_HASH,
    Category,
    Channel,
    Location,
    ReportFiled,
    decode_event,
    encode_event,
    hash_is_intact,
)

text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=200).filter(lambda s: s.strip())
token = st.from_regex(r"^[a-z0-9][a-z0-9_-]{0,20}$", fullmatch=True)

reports = st.builds(
    lambda tenant, report_id, category, channel, description, site, area, spot, minutes, fix: ReportFiled.record(
        prev_hash=GENESIS_HASH, tenant=tenant, aggregate_id=report_id, actor="reporter:p", category=category,
        channel=channel, subtype="other", description=description, location=Location(site=site, area=area, spot=spot),
        observed_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes), reporter="p-" + "0" * 32,
        suggested_fix=fix,
    ),
    token, token, st.sampled_from(Category), st.sampled_from(Channel), text,
    text.map(lambda s: s[:80]), text.map(lambda s: s[:80]), text.map(lambda s: s[:120]),
    st.integers(0, 10**6), st.none() | text,
)


@settings(max_examples=200, deadline=None)
@given(reports)
def test_any_valid_report_round_trips_and_its_hash_holds(event):
    data = encode_event(event)
    assert decode_event(data) == event
    assert hash_is_intact(json.loads(data))


@settings(max_examples=200, deadline=None)
@given(reports, st.sampled_from(["description", "tenant", "reporter", "observed_at", "prev_hash"]), text)
def test_changing_any_field_breaks_the_hash(event, field, replacement):
    document = json.loads(encode_event(event))
    if document[field] == replacement:
        replacement += "x"
    document[field] = replacement
    assert not hash_is_intact(document)
