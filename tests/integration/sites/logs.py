"""Reading a site's stream and the group stream whole, and waiting for the group to catch up."""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from nats.aio.client import Client

from hazardloop.audit.group import origin_of
from hazardloop.audit.source import parse_headers
from hazardloop.log.reader import read_stream
from tests.waiting import until


class Stored(NamedTuple):
    sequence: int
    subject: str
    data: bytes
    headers: dict[str, str]


async def messages(nc: Client, stream: str) -> list[Stored]:
    found: list[Stored] = []
    async for batch in read_stream(nc, stream):
        found.extend(Stored(m.sequence, m.subject, m.data, parse_headers(m.headers)) for m in batch)
    return found


async def count(nc: Client, stream: str) -> int:
    return (await nc.jetstream(timeout=2).stream_info(stream)).state.messages


async def caught_up(hub: Client, group_stream: str, sites: dict[str, Client], stream: str = "HAZARDLOOP", timeout: float = 30.0) -> int:
    """Wait until the group stream holds as many messages as every site's stream together."""

    async def done() -> int | bool:
        total = sum([await count(nc, stream) for nc in sites.values()])
        held = await count(hub, group_stream)
        assert held <= total, f"the group stream holds {held} messages, the sites only {total}"
        return held == total and total

    return await until(done, timeout)


def by_origin(group: list[Stored]) -> dict[str, list[tuple[int, Stored]]]:
    """Each origin's messages as the group stream holds them: (origin sequence, message), in group order."""
    origins: dict[str, list[tuple[int, Stored]]] = defaultdict(list)
    for message in group:
        label, sequence = origin_of(message.headers)
        origins[label].append((sequence, message))
    return origins


def assert_mirrors(group: list[Stored], sites: dict[str, list[Stored]]) -> None:
    """The group stream holds every message of every site exactly once, in that site's order,
    with the same subject and bytes; nothing else."""
    origins = by_origin(group)
    assert len(origins) == len(sites)
    unmatched = dict(sites)
    for held in origins.values():
        first = held[0][1]
        name = next(name for name, own in unmatched.items() if own and own[0].data == first.data)
        own = unmatched.pop(name)
        assert [sequence for sequence, _ in held] == [m.sequence for m in own], f"site {name}: lost, repeated or reordered"
        assert [(m.subject, m.data) for _, m in held] == [(m.subject, m.data) for m in own], f"site {name}: changed"
    assert not unmatched
