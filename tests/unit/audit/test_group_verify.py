"""Verifying a group stream: each sourced message is proved at its site's own sequence."""

from __future__ import annotations

import json

from hazardloop.audit.group import GroupVerifier, origin_of
from hazardloop.audit.seal import commit, leaf
from hazardloop.events import GENESIS_HASH, SEAL_TENANT, RangeSealed, encode_event
from tests.factories import report_filed, verified
from tests.unit.audit.test_verify import SUBJECTS, log_of


def sourced(site_logs: dict[str, list], order: list[tuple[str, int]]):
    """The group stream's messages: (group sequence, subject, data, headers) taking each
    site's message ``(site, index)`` in ``order``, as the server sources them."""
    group = []
    for sequence, (site, index) in enumerate(order, start=1):
        origin_sequence, subject, data = site_logs[site][index]
        headers = {"Nats-Stream-Source": f"HAZARDLOOP:{site} {origin_sequence} > > {subject}"}
        group.append((sequence, subject, data, headers))
    return group


def site_log(tenant: str, count: int = 2) -> list:
    """A site's stream holding ``tenant``'s reports, sealed in the chain of a site named after it."""
    events = []
    for _ in range(count):
        filed = report_filed(tenant)
        events += [filed, verified(filed)]
    messages = log_of(events)
    digest, marks = commit([leaf(seq, subject, json.loads(data)["hash"]) for seq, subject, data in messages])
    seal = RangeSealed.record(prev_hash=GENESIS_HASH, tenant=SEAL_TENANT, aggregate_id=f"{tenant}-site", actor="system:sealer",
                              first_sequence=1, last_sequence=len(messages), count=len(messages), digest=digest, marks=marks)
    return [*messages, (len(messages) + 1, SUBJECTS.of(seal), encode_event(seal))]


def check(group):
    verifier = GroupVerifier()
    for sequence, subject, data, headers in group:
        verifier.feed(sequence, subject, data, headers=headers)
    return verifier.finish(), verifier


def interleaved(logs):
    a, b = logs["a"], logs["b"]
    return [item for pair in zip([("a", i) for i in range(len(a))], [("b", i) for i in range(len(b))], strict=True) for item in pair]


def test_two_sites_interleaved_verify_with_their_seals_at_their_own_sequences() -> None:
    logs = {"a": site_log("refinery"), "b": site_log("mine")}
    verdict, verifier = check(sourced(logs, interleaved(logs)))
    assert verdict.ok, verdict.faults
    assert verdict.events == 10 and verdict.seals == 2
    assert {name: v.ok for name, v in verifier.sites().items()} == {"refinery-site": True, "mine-site": True}


def test_a_message_a_site_lost_on_the_way_is_named_at_that_sites_sequence() -> None:
    logs = {"a": site_log("refinery"), "b": site_log("mine")}
    order = [step for step in interleaved(logs) if step != ("a", 1)]
    verdict, _ = check(sourced(logs, order))
    assert ("gap", 2) in {(f.kind, int(f.detail.split("sequence ")[1].split(":")[0])) for f in verdict.faults}


def test_a_message_sourced_twice_is_named_a_duplicate() -> None:
    logs = {"a": site_log("refinery"), "b": site_log("mine")}
    verdict, _ = check(sourced(logs, [*interleaved(logs), ("a", 0)]))
    assert [f.kind for f in verdict.faults] == ["duplicate"]
    assert verdict.faults[0].sequence is not None and "site refinery-site, its sequence 1" in verdict.faults[0].detail


def test_a_subsidiary_under_two_sites_and_a_message_not_sourced_are_named() -> None:
    logs = {"a": site_log("refinery"), "b": site_log("refinery")}
    group = sourced(logs, interleaved(logs))
    stray = (len(group) + 1, group[0][1], group[0][2], {})
    verdict, _ = check([*group, stray])
    assert {f.kind for f in verdict.faults} == {"overlap", "not sourced"}


def test_the_origin_header_is_read_as_the_server_writes_it() -> None:
    assert origin_of({"Nats-Stream-Source": "HAZARDLOOP:x1TzAtgz 17 > > hazard.mine.report.r.ReportFiled"}) == ("HAZARDLOOP:x1TzAtgz", 17)
    assert origin_of({}) is None and origin_of({"Nats-Stream-Source": "HAZARDLOOP"}) is None
