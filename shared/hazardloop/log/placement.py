"""Where each subsidiary's log lives: one cluster, or sites joined to a group hub.

A group may run several sites, each a nats-server leaf node with its own JetStream
domain and its own stream holding only the subjects of the subsidiaries it hosts; the
hub's group stream sources every site's stream (``hazardloop hub sources``). An
aggregate lives in the stream of its subsidiary's site, so a decision on it is loaded
from that site's stream (its domain's API) and appended on its subject, which the leaf
connection carries to that stream. Every guard is therefore checked where the aggregate
lives, and a cut-off site refuses the decision instead of storing it elsewhere.

With no site and no placement (the default) there is one stream holding every subject.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hazardloop.events import SEAL_AGGREGATE_ID, SEAL_TENANT, RangeSealed


def parse_placement(text: str) -> dict[str, str]:
    """``"mine=site-b,steelmill=site-b"`` as ``{tenant: JetStream domain}``."""
    placement: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        tenant, equals, domain = (part.strip() for part in item.partition("="))
        if not equals or not tenant or not domain:
            raise ValueError(f"a placement is tenant=domain, comma-separated, not {item.strip()!r}")
        placement[tenant] = domain
    return placement


def seal_aggregate_id(site: str | None) -> str:
    """Each site seals its own stream in a chain of its own (``<prefix>.group.seal.<site>.*``),
    so two sites' seals never share subjects; one cluster keeps the single chain ``log``."""
    return site or SEAL_AGGREGATE_ID


@dataclass(frozen=True, slots=True)
class Topology:
    """This deployment's place in the group.

    ``site`` unset and ``placement`` empty: one cluster, one stream of every subject.
    ``site`` set: a site whose stream holds its hosted ``tenants`` (those not placed
    elsewhere) and its own seal chain. ``site`` unset with a placement: the hub, whose
    group stream has no subjects of its own and is made by ``hazardloop hub sources``.
    """

    tenants: tuple[str, ...] = ()
    site: str | None = None
    placement: Mapping[str, str] = field(default_factory=dict)
    site_stream: str = "HAZARDLOOP"
    """The name of every site's stream, as ``Nats-Expected-Stream`` of a remote append."""

    @property
    def is_hub(self) -> bool:
        return self.site is None and bool(self.placement)

    @property
    def hosted(self) -> tuple[str, ...]:
        return tuple(tenant for tenant in self.tenants if tenant not in self.placement)

    def domain_of(self, tenant: str) -> str | None:
        """The JetStream domain holding ``tenant``'s aggregates, None when it is this log."""
        return self.placement.get(tenant)

    def stream_subjects(self, prefix: str) -> list[str] | None:
        """The subjects this deployment's stream stores; None for the hub's group stream."""
        if self.is_hub:
            return None
        if self.site is None:
            return [f"{prefix}.>"]
        seals = f"{prefix}.{SEAL_TENANT}.{RangeSealed.aggregate_type}.{seal_aggregate_id(self.site)}.*"
        return [*(f"{prefix}.{tenant}.>" for tenant in self.hosted), seals]
