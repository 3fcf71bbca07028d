"""What a client may send: strict JSON, safe text and times within sane bounds.

One rule in one place for every request body, so that no route can forget it. A stored
event stays as it was written (it is a fact); these rules only refuse new input.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetCoreSchemaHandler,
    ValidationError,
    ValidatorFunctionWrapHandler,
)
from pydantic_core import CoreSchema, InitErrorDetails, PydanticCustomError, core_schema, to_json

UNSAFE_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffe\uffff]")
"""Control characters (tab and line breaks excepted), lone surrogates, the Unicode line
and paragraph separators, and the bidirectional overrides and isolates that can make a
ledger line read differently from what it holds."""

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""Any time a client sends lies in this century: the rules of each command (a deadline
ahead of now, an observation not in the future) narrow it further."""

FURTHEST_AHEAD = timedelta(days=3 * 365 + 1)
"""How far ahead a client may set a date: a rectification deadline, an extension, a
policy's start. Three years covers the longest supervised rectification (a capital
project, a turnaround); anything later is a typing error, not a plan."""


def unsafe_text(where: tuple[str | int, ...], value: Any) -> Iterator[InitErrorDetails]:
    """A refusal for each string in a JSON document (keys included) holding a code point
    that is not safe to show, located where it was sent."""
    if isinstance(value, str):
        if found := UNSAFE_TEXT.search(value):
            problem = f"text may not contain U+{ord(found.group()):04X} (a control or formatting character)"
            yield InitErrorDetails(type=PydanticCustomError("unsafe_text", problem), loc=where, input=value)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from unsafe_text((*where, key), key)
            yield from unsafe_text((*where, key), item)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from unsafe_text((*where, index), item)


def _written_out(at: Any) -> Any:
    """A date and time as ISO 8601 text, never a count of seconds (which the generic
    parser would also take)."""
    if not isinstance(at, str):
        return at
    try:
        return datetime.fromisoformat(at)
    except ValueError:
        raise ValueError("must be an ISO 8601 date and time with its offset, like 2026-11-30T17:00:00+08:00") from None


def _within_bounds(at: datetime) -> datetime:
    try:
        sane = EARLIEST <= at < LATEST
    except OverflowError:
        sane = False
    if not sane:
        raise ValueError(f"must lie between {EARLIEST.year} and {LATEST.year - 1}")
    return at


Instant = Annotated[AwareDatetime, BeforeValidator(_written_out), AfterValidator(_within_bounds)]
"""A time a client sends: ISO 8601 with its offset, within ``EARLIEST`` and ``LATEST``."""


class Command(BaseModel):
    """A request body: validated as the JSON it was sent as, strictly, so that ``"yes"`` is
    no bool, ``"12"`` no number and ``1`` no text (nested models included), and with text
    that is safe to show.

    The web framework hands a body over already parsed, where strict validation would
    also refuse a time or an enumeration sent as text: the parsed body is checked as JSON
    first, then validated as usual. The check sits inside the model's own schema, so the
    published API still names each body's model.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: type[BaseModel], handler: GetCoreSchemaHandler) -> CoreSchema:
        model = handler(source)
        if model.get("schema", {}).get("type") == "json-or-python":
            return model  # pydantic handed back the schema built already: wrapping it again would nest it
        model = {**model}  # never alter a schema pydantic may hold on to and hand out again
        fields = model["schema"]

        def checked(data: Any, validate: ValidatorFunctionWrapHandler) -> Any:
            if isinstance(data, dict):
                if refused := list(unsafe_text((), data)):
                    raise ValidationError.from_exception_data(cls.__name__, refused)
                cls.__pydantic_validator__.validate_json(to_json(data), strict=True)
            return validate(data)

        model["schema"] = core_schema.json_or_python_schema(
            json_schema=fields, python_schema=core_schema.no_info_wrap_validator_function(checked, fields)
        )
        return model  # type: ignore[return-value]
