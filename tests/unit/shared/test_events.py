import json
import uuid

import pytest
from pydantic import ValidationError

from hazardloop.events import (
    EVENT_TYPES,
    GENESIS_HASH,
    UPCASTERS,
    Rectified,
    ReportFiled,
    RewardFactors,
    RewardGranted,
    Verified,
    chain_hash,
    decode_event,
    encode_event,
    event_json_schemas,
    hash_is_intact,
)
from hazardloop.log.eventstore import Subjects, cloudevents_headers
from tests.factories import REPORTER, report_filed, verified


def test_first_event_chains_onto_genesis_and_hash_covers_content():
    filed = report_filed()
    assert filed.prev_hash == GENESIS_HASH
    document = json.loads(encode_event(filed))
    assert hash_is_intact(document)
    document["description"] = "something else"
    assert not hash_is_intact(document)


def test_next_event_chains_onto_previous_hash():
    filed = report_filed()
    assert verified(filed).prev_hash == filed.hash


def test_hash_is_over_canonical_json_independent_of_key_order():
    document = json.loads(encode_event(report_filed()))
    reordered = dict(reversed(list(document.items())))
    assert chain_hash(reordered) == document["hash"]


def test_events_are_frozen():
    filed = report_filed()
    with pytest.raises(ValidationError):
        filed.description = "edited"


def test_round_trip_through_bytes_is_lossless():
    filed = report_filed()
    assert decode_event(encode_event(filed)) == filed


def test_money_must_be_integer_fen():
    filed = report_filed()
    common = dict(
        prev_hash=GENESIS_HASH, tenant="refinery", aggregate_id=filed.aggregate_id, actor="policy",
        report_id=filed.aggregate_id, reporter=REPORTER, outcome="confirmed_hazard", grade="general", policy="t",
        payment_reference="PAY-1", approved_by="head-liu",
    )
    assert RewardGranted.record(**common, amount_fen=10_000).amount_fen == 10_000
    for bad in (100.5, 100.0, "100", -1):
        with pytest.raises(ValidationError, match="amount_fen"):
            RewardGranted.record(**common, amount_fen=bad)


@pytest.mark.parametrize("tenant", ["", "Refinery", "a.b", "a*", "a>", "a b", "x" * 64])
def test_tenant_and_ids_must_be_safe_subject_tokens(tenant):
    with pytest.raises(ValidationError, match="tenant"):
        report_filed(tenant=tenant)


def test_reaction_ids_are_stable_per_cause_and_purpose():
    filed = report_filed()
    assert filed.derived_id("reward") == filed.derived_id("reward")
    assert filed.derived_id("reward") != filed.derived_id("other")
    assert filed.caused() == {"correlation_id": filed.correlation_id, "causation_id": filed.event_id}


def test_old_schema_versions_are_upcast_on_read(monkeypatch):
    document = json.loads(encode_event(verified(report_filed())))
    document["schema_version"] = 0
    document["result"] = document.pop("outcome")  # pretend v0 named the field differently

    def v0_to_v1(old):
        new = dict(old, schema_version=1)
        new["outcome"] = new.pop("result")
        return new

    monkeypatch.setitem(UPCASTERS, ("Verified", 0), v0_to_v1)
    event = decode_event(json.dumps(document).encode())
    assert isinstance(event, Verified) and event.outcome == "confirmed_hazard"


def test_cloudevents_headers_carry_the_envelope():
    event = verified(report_filed(tenant="mine"))
    headers = cloudevents_headers(event, "hazardloop/verification")
    assert headers["ce-specversion"] == "1.0"
    assert headers["ce-id"] == str(event.event_id)
    assert headers["ce-type"] == "hazardloop.Verified.v2"
    assert headers["ce-tenant"] == "mine"
    assert headers["ce-subject"] == event.aggregate_id
    assert uuid.UUID(headers["ce-correlationid"]) == event.correlation_id


def test_subjects_put_tenant_type_and_id_in_tokens():
    event = report_filed(tenant="mine", report_id="r-1")
    subjects = Subjects("hazard")
    assert subjects.of(event) == "hazard.mine.report.r-1.ReportFiled"
    assert subjects.aggregate("mine", "report", "r-1") == "hazard.mine.report.r-1.*"
    assert subjects.of_type("Verified") == "hazard.*.*.*.Verified"


def test_every_event_has_a_json_schema_with_envelope_fields():
    schemas = event_json_schemas()
    assert set(schemas) == {kind.__name__ for kind in EVENT_TYPES} >= {"ReportFiled", "Verified", "Rectified", "RewardGranted"}
    for schema in schemas.values():
        assert {"event_id", "type", "schema_version", "occurred_at", "tenant", "aggregate_id", "actor",
                "correlation_id", "causation_id", "prev_hash", "hash"} <= set(schema["properties"])


def test_reports_stored_before_sub_types_existed_read_as_other():
    document = json.loads(encode_event(report_filed()))
    document["schema_version"] = 1
    for field in ("subtype", "cause_analysis", "attachments", "identity", "receipt_digest", "entered_by", "possible_duplicate_of"):
        document.pop(field, None)
    for field in ("place_id", "equipment_tag"):
        document["location"].pop(field)
    event = decode_event(json.dumps(document).encode())
    assert isinstance(event, ReportFiled) and event.schema_version == 2 and event.subtype == "other"
    assert event.location.place_id is None


@pytest.mark.parametrize(
    "overrides, problem",
    [({"subtype": "no_training_plan"}, "not one of unsafe_equipment"),
     ({"anonymous": True}, "anonymous report carries a receipt digest"),
     ({"receipt_digest": "0" * 64}, "only anonymous reports")],
)
def test_a_filed_report_is_internally_consistent(overrides, problem):
    with pytest.raises(ValidationError, match=problem):
        report_filed(**overrides)


def _stored_v1(event, *, drop: tuple[str, ...]) -> bytes:
    """The bytes a version-1 writer stored: without the fields version 2 added, hashed as then."""
    document = {k: v for k, v in json.loads(encode_event(event)).items() if k not in drop} | {"schema_version": 1}
    return json.dumps(document | {"hash": chain_hash(document)}).encode()


def test_a_verification_stored_before_risk_colours_reads_with_its_grades_colour_and_no_factors():
    stored = _stored_v1(verified(report_filed(), grade="larger"), drop=("risk_colour", "factors", "within_routine_duties", "duplicate_of", "first_report_id"))
    event = decode_event(stored)
    assert isinstance(event, Verified) and event.schema_version == 2
    assert (event.grade, event.risk_colour, event.factors) == ("larger", "orange", RewardFactors())
    assert not any(event.factors.model_dump().values())
    rejected = decode_event(_stored_v1(verified(report_filed(), outcome="not_confirmed", grade=None), drop=("risk_colour", "factors")))
    assert rejected.risk_colour is None and rejected.factors is None


def test_a_rectification_stored_before_evidence_reads_without_evidence_and_not_on_the_spot():
    filed = report_filed()
    current = Rectified.record(prev_hash=filed.hash, tenant=filed.tenant, aggregate_id=filed.aggregate_id, actor="maint-wang", measures="Rail fitted")
    event = decode_event(_stored_v1(current, drop=("evidence", "on_the_spot")))
    assert isinstance(event, Rectified) and event.schema_version == 2
    assert (event.measures, event.evidence, event.on_the_spot) == ("Rail fitted", (), False)
