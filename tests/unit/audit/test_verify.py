"""The verifier on hand-built logs: what a live stream can show (no archive lines)."""

from __future__ import annotations

import json

from hazardloop.audit.seal import commit, leaf
from hazardloop.audit.verify import Verifier
from hazardloop.events import GENESIS_HASH, SEAL_AGGREGATE_ID, SEAL_TENANT, RangeSealed, encode_event
from hazardloop.log.eventstore import Subjects
from tests.factories import report_filed, verified

SUBJECTS = Subjects("hazard")


def log_of(events):
    return [(seq, SUBJECTS.of(event), encode_event(event)) for seq, event in enumerate(events, start=1)]


def sealed(messages):
    digest, marks = commit([leaf(seq, subject, json.loads(data)["hash"]) for seq, subject, data in messages])
    seal = RangeSealed.record(prev_hash=GENESIS_HASH, tenant=SEAL_TENANT, aggregate_id=SEAL_AGGREGATE_ID, actor="system:sealer",
                              first_sequence=1, last_sequence=len(messages), count=len(messages), digest=digest, marks=marks)
    return [*messages, (len(messages) + 1, SUBJECTS.of(seal), encode_event(seal))]


def verdict(messages):
    verifier = Verifier()
    for seq, subject, data in messages:
        verifier.feed(seq, subject, data)
    return verifier.finish(expected_last=len(messages))


def reports(count=3):
    events = []
    for _ in range(count):
        filed = report_filed()
        events += [filed, verified(filed)]
    return events


def test_an_intact_sealed_log_verifies():
    result = verdict(sealed(log_of(reports())))
    assert result.ok and result.seals == 1 and result.sealed_through == 6 and result.unsealed == 1


def test_a_wrong_subject_is_an_alteration_and_breaks_the_seal():
    messages = sealed(log_of(reports()))
    seq, subject, data = messages[2]
    messages[2] = (seq, subject.replace("refinery", "mine"), data)
    kinds = {(f.sequence, f.kind) for f in verdict(messages).faults}
    assert kinds == {(3, "altered"), (3, "sealed range")}


def test_a_dropped_last_event_of_an_aggregate_is_caught_only_by_the_seal():
    messages = sealed(log_of(reports()))
    seq, subject, data = messages[5]  # the last report's verification, its aggregate's last event
    messages[5] = (seq, subject, encode_event(report_filed()))  # another event in its place
    kinds = {(f.sequence, f.kind) for f in verdict(messages).faults}
    assert (6, "sealed range") in kinds


def test_an_unsealed_log_still_checks_hashes_and_chains():
    events = reports(1)
    messages = log_of([events[1], events[0]])  # a verification before its filing
    kinds = {f.kind for f in verdict(messages).faults}
    assert kinds == {"chain broken"}
