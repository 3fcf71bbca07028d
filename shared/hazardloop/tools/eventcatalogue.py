"""The event catalogue as a Markdown page, read from the code so it cannot drift.

Every event type comes from the registry (``hazardloop.events.EVENT_TYPES``), its fields
from its JSON Schema, who appends it from the services' published AsyncAPI documents
(each lists the events its service declares it publishes), and who consumes it from
each service's projection: the handlers that apply it to a read model and the reactions
that append in answer. The documentation build renders it; nothing stores it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

ENVELOPE_FIELDS = (
    "type", "schema_version", "event_id", "occurred_at", "tenant", "aggregate_id",
    "actor", "correlation_id", "causation_id", "prev_hash", "hash",
)
"""The fields every event carries (``hazardloop.events.Event``); listed once, not per event."""


@dataclass
class Entry:
    """One event type as the code declares it."""

    name: str
    version: int
    aggregate: str
    summary: str
    schema: dict[str, Any]
    appended_by: list[str] = field(default_factory=list)
    applied_by: list[str] = field(default_factory=list)
    reacted_to_by: list[str] = field(default_factory=list)


def catalogue_entries() -> list[Entry]:
    """Every registered event with its producers and consumers, in the registry's order."""
    from hazardloop.events import EVENT_TYPES
    from hazardloop.tools.contracts import render_contracts
    from hazardloop.tools.registry import SERVICES, projection_factory

    contracts = render_contracts()
    entries = {
        kind.__name__: Entry(
            name=kind.__name__,
            version=kind.model_fields["schema_version"].default,
            aggregate=kind.aggregate_type,
            summary=_first_paragraph(kind.__doc__),
            schema=kind.model_json_schema(mode="serialization"),  # as published, fields in declared order
        )
        for kind in EVENT_TYPES
    }
    for service in SERVICES:
        for name in _published(json.loads(contracts[f"asyncapi/{service}.json"])):
            entries[name].appended_by.append(service)
        built = projection_factory(service)(None)
        for kind in built.handlers:
            entries[kind.__name__].applied_by.append(service)
        for kind in built.reactions:
            entries[kind.__name__].reacted_to_by.append(service)
    return list(entries.values())


def render_catalogue(entries: Iterable[Entry] | None = None) -> str:
    entries = list(catalogue_entries() if entries is None else entries)
    lines = [
        "# Event catalogue",
        "",
        "Generated from the code when the documentation is built: the event registry",
        "(`hazardloop.events.EVENT_TYPES`), each event's JSON Schema (as published in",
        "`schemas/events/`), the events each service declares it appends (its AsyncAPI",
        "document, `schemas/asyncapi/`), and each service's projection: the events its",
        "handlers apply to its read model, and those it reacts to by appending. The seals are",
        "appended by notifications on a schedule and by operators' `hazardloop audit seal`.",
        "",
        "Each event is stored on the subject `hazard.<tenant>.<aggregate>.<aggregate id>.<Event>`.",
        "Every event also carries the envelope: "
        + ", ".join(f"`{name}`" for name in ENVELOPE_FIELDS)
        + " (see [Event contracts](architecture/event-contracts.md)).",
        "",
        "| Event | Aggregate | Appended by | Applied by | Reacted to by |",
        "| --- | --- | --- | --- | --- |",
    ]
    for entry in entries:
        lines.append(
            f"| [`{entry.name}`](#{_anchor(entry.name)}) (v{entry.version}) | `{entry.aggregate}` "
            f"| {_names(entry.appended_by)} | {_names(entry.applied_by)} | {_names(entry.reacted_to_by)} |"
        )
    shared: dict[str, dict[str, Any]] = {}
    for entry in entries:
        lines += ["", f"## `{entry.name}` {{#{_anchor(entry.name)}}}", ""]
        if entry.summary:
            lines += [entry.summary, ""]
        lines += [
            f"- Version {entry.version}, subject `hazard.<tenant>.{entry.aggregate}.<id>.{entry.name}`",
            f"- Appended by: {_names(entry.appended_by)}",
            f"- Applied by: {_names(entry.applied_by)}",
            f"- Reacted to by: {_names(entry.reacted_to_by)}",
            "",
        ]
        definitions = entry.schema.get("$defs", {})
        shared.update(definitions)
        lines += _field_table(entry.schema, exclude=ENVELOPE_FIELDS, definitions=definitions)
    if shared:
        lines += ["", "## Types used by the fields", ""]
        for name in sorted(shared):
            lines += _type_section(name, shared[name], shared)
    return "\n".join(lines) + "\n"


def _published(asyncapi: Mapping[str, Any]) -> list[str]:
    """The event types a service's AsyncAPI document publishes: the last token of each
    channel's subject (``hazard.*.*.*.<Event>``)."""
    return [channel["address"].rsplit(".", 1)[-1] for channel in asyncapi.get("channels", {}).values()]


def _field_table(schema: Mapping[str, Any], *, exclude: Iterable[str] = (), definitions: Mapping[str, Any]) -> list[str]:
    properties = {name: value for name, value in schema.get("properties", {}).items() if name not in exclude}
    if not properties:
        return ["No fields besides the envelope."]
    required = set(schema.get("required", ()))
    described = any(_description(prop) for prop in properties.values())
    rows = ["| Field | Type | Required |" + (" Meaning |" if described else ""), "| --- | --- | --- |" + (" --- |" if described else "")]
    for name, prop in properties.items():
        need = "yes" if name in required else f"no (default `{json.dumps(prop.get('default'), ensure_ascii=False)}`)"
        meaning = f" {_cell(_description(prop))} |" if described else ""
        rows.append(f"| `{name}` | {_type_of(prop, definitions)} | {need} |{meaning}")
    return rows


def _type_section(name: str, definition: Mapping[str, Any], definitions: Mapping[str, Any]) -> list[str]:
    lines = [f"### `{name}` {{#{_anchor('type-' + name)}}}", ""]
    if definition.get("description"):
        lines += [_first_paragraph(definition["description"]), ""]
    if "enum" in definition:
        return [*lines, "One of " + ", ".join(f"`{value}`" for value in definition["enum"]) + ".", ""]
    return [*lines, *_field_table(definition, definitions=definitions), ""]


def _type_of(prop: Mapping[str, Any], definitions: Mapping[str, Any]) -> str:
    """A short human name for a JSON Schema, linking named types to their section."""
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{_anchor('type-' + name)})"
    if "const" in prop:
        return f"`{json.dumps(prop['const'])}`"
    if "anyOf" in prop:
        return " or ".join(dict.fromkeys(_type_of(option, definitions) for option in prop["anyOf"]))
    if "enum" in prop:
        return "one of " + ", ".join(f"`{value}`" for value in prop["enum"])
    kind = prop.get("type")
    if kind == "array":
        return f"list of {_type_of(prop.get('items', {}), definitions)}"
    if kind == "object":
        values = prop.get("additionalProperties")
        return f"map of text to {_type_of(values, definitions)}" if isinstance(values, dict) else "object"
    if kind == "string":
        return prop.get("format", "text")
    return {"integer": "integer", "number": "number", "boolean": "boolean", "null": "null"}.get(kind, "any")


def _description(prop: Mapping[str, Any]) -> str:
    if prop.get("description"):
        return prop["description"]
    for option in prop.get("anyOf", ()):
        if option.get("description"):
            return option["description"]
    return ""


def _names(services: Iterable[str]) -> str:
    return ", ".join(services) or "—"


def _anchor(name: str) -> str:
    return name.lower()


def _first_paragraph(text: str | None) -> str:
    paragraph = (text or "").strip().split("\n\n", 1)[0]
    return " ".join(line.strip() for line in paragraph.splitlines())


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
