"""What every request body is held to: strict JSON types, safe text, times within bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated

import pytest
from fastapi.encoders import jsonable_encoder
from pydantic import Field, TypeAdapter, ValidationError

from hazardloop.events import Grade, LongText, Note, RewardFactors
from hazardloop.web.edge import EARLIEST, LATEST, Command, Instant


class Sample(Command):
    note: Note | None = None
    grade: Grade = Grade.GENERAL
    count: int = 0
    share: float = 0.0
    flag: bool = False
    tags: tuple[str, ...] = ()
    at: Instant | None = None
    factors: RewardFactors | None = None


class Outer(Command):
    inner: Sample
    text: LongText = "x"


def refused(model: type[Command], body: dict) -> list[tuple[tuple, str]]:
    """Validate ``body`` as the web framework does (already parsed JSON): the refusals."""
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(model).validate_python(body, from_attributes=True)
    return [(error["loc"], error["msg"]) for error in caught.value.errors()]


def accepted(model: type[Command], body: dict) -> Command:
    return TypeAdapter(model).validate_python(body, from_attributes=True)


@pytest.mark.parametrize(
    ("field", "value"),
    [("flag", "yes"), ("flag", "true"), ("flag", 1), ("count", "12"), ("count", 12.0), ("note", 1), ("note", True), ("grade", 1), ("tags", "a")],
)
def test_no_value_is_coerced_to_the_field_type(field, value):
    [(loc, _)] = refused(Sample, {field: value})
    assert loc == (field,)


def test_nested_models_are_strict_too_even_those_shared_with_events():
    assert [loc for loc, _ in refused(Outer, {"inner": {"factors": {"at_height": "yes"}}})] == [("inner", "factors", "at_height")]
    assert [loc for loc, _ in refused(Outer, {"inner": {"count": "3"}})] == [("inner", "count")]


def test_json_values_keep_their_json_types():
    sample = accepted(Sample, {"grade": "major", "count": 3, "share": 2, "flag": True, "tags": ["a", "b"], "at": "2026-11-30T17:00:00+08:00"})
    assert sample.grade is Grade.MAJOR and sample.share == 2.0 and sample.tags == ("a", "b")
    assert sample.at == datetime(2026, 11, 30, 9, tzinfo=UTC)


def test_models_built_in_code_validate_as_before():
    sample = Sample(grade="larger", at=datetime(2026, 1, 1, tzinfo=UTC), factors=RewardFactors(at_height=True))
    assert sample.grade is Grade.LARGER and Outer(inner=sample).inner == sample
    assert Sample.model_validate_json(sample.model_dump_json()) == sample
    with pytest.raises(ValidationError):
        Sample(flag="yes")


@pytest.mark.parametrize(
    "bad",
    ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b", "\u2028", "\u2029", "\u202e", "\u202a", "\u2066", "\u2069", "\ud800", "\ufffe"],
)
def test_control_and_formatting_characters_are_refused_where_they_were_sent(bad):
    assert refused(Outer, {"inner": {"note": f"valve{bad}ok", "tags": ["a", f"b{bad}"]}}) == [
        (("inner", "note"), f"text may not contain U+{ord(bad):04X} (a control or formatting character)"),
        (("inner", "tags", 1), f"text may not contain U+{ord(bad):04X} (a control or formatting character)"),
    ]


def test_ordinary_writing_passes_tabs_and_line_breaks_included():
    text = "压力表读数异常\tP-101A\r\n第二行: ≥ 3 MPa, 温度 85 °C 🔥 — «ok» Ünïcødé"
    assert accepted(Outer, {"text": text, "inner": {"note": text}}).text == text


@pytest.mark.parametrize(
    "value",
    ["1999-12-31T23:59:59Z", "2100-01-01T00:00:00Z", "9999-12-31T00:00:00Z", "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+14:00"],
)
def test_a_time_outside_this_century_is_refused_by_name(value):
    [(loc, message)] = refused(Sample, {"at": value})
    assert loc == ("at",) and f"between {EARLIEST.year} and {LATEST.year - 1}" in message


@pytest.mark.parametrize("value", ["1700000000", 1700000000, "2026-11-30", "2026-11-30T17:00:00", "tomorrow"])
def test_a_time_is_iso_8601_with_its_offset(value):
    [(loc, _)] = refused(Sample, {"at": value})
    assert loc == ("at",)


def test_a_time_within_bounds_keeps_its_offset():
    at = accepted(Sample, {"at": "2099-12-31T23:59:59+08:00"}).at
    assert at.utcoffset() == timedelta(hours=8) and jsonable_encoder(at) == "2099-12-31T23:59:59+08:00"
    assert accepted(Sample, {"at": datetime(2030, 1, 1, tzinfo=timezone(timedelta(hours=-5)))}).at.year == 2030


def test_a_body_models_schema_stays_the_same_however_often_a_service_is_built():
    """Each build of a service asks for its bodies' schemas again, as ``Annotated[Body, Body()]``:
    the strict check must wrap a schema once, never again (nested, it doubled memory and time
    with every build)."""

    class Remark(Command):
        text: str

    built = str(Remark.__pydantic_core_schema__)
    for _ in range(3):
        adapter = TypeAdapter(Annotated[Remark, Field(description="a note")])
    assert str(Remark.__pydantic_core_schema__) == built
    assert adapter.validate_python({"text": "ok"}) == Remark(text="ok")
    with pytest.raises(ValidationError):
        adapter.validate_python({"text": 1})
