"""A delivery's idempotency key and its stored parameters are the documented derivations.

The key names the delivery's events in the log (``hazard.<t>.delivery.<key>...``): a
replay that derived another key for the same message would find it never sent and send
it again. So it is pinned to its definition, ``stable_id("delivery", source event id,
channel, recipient)``, a UUIDv5 under the project's namespace, and to keys in logs
already written.
"""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hazardloop_notifications.projection import delivery_key, encode_params

NAMESPACE = uuid.UUID("6f1d3c2e-5b8a-4c1e-9a57-2d0f8e4b7a10")
"""``hazardloop.events.envelope``'s, spelled out: changing it would change every key."""

CHINESE = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=12)
TEXT = st.one_of(st.text(max_size=24), CHINESE, st.sampled_from(["reporter", "inbox", "email", "webhook", "endpoint:安全部"]))


@pytest.mark.parametrize(
    ("source", "channel", "recipient", "key"),
    [
        ("7f3e0c4a-1b2d-4c5e-8f60-718293a4b5c6", "inbox", "reporter", "fafe9fee-b23d-5b00-bc3f-b72dad8a9f3b"),
        ("00000000-0000-0000-0000-000000000000", "email", "张伟", "abfc1cff-2ee8-5e14-a1ec-c98981d5c186"),
        ("e0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d", "webhook", "endpoint:安全部-预警", "e0df4727-b6eb-574d-9698-f47bf7e39fb8"),
    ],
)
def test_keys_in_logs_already_written_are_derived_again_unchanged(source, channel, recipient, key):
    assert delivery_key(source, channel, recipient) == key


@settings(max_examples=500, deadline=None)
@given(source=st.one_of(st.uuids().map(str), TEXT), channel=TEXT, recipient=TEXT)
def test_the_key_is_the_uuid5_of_its_parts_under_the_projects_namespace(source, channel, recipient):
    expected = uuid.uuid5(NAMESPACE, "\x1f".join(("delivery", source, channel, recipient)))
    assert delivery_key(source, channel, recipient) == str(expected)


PARAMS = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(params=st.dictionaries(TEXT, PARAMS, max_size=6))
def test_parameters_are_stored_as_canonical_json_with_chinese_text_as_written(params):
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert encode_params(params) == canonical
    assert json.loads(encode_params(params)) == params
