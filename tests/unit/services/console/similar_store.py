"""A console store folded from hand-built events, descriptions indexed as the service does
(texts filed in clear, as before sealing, so no broker is needed to open them)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import Engine

from hazardloop.events import GENESIS_HASH, Event, Location, ReportTextShredded
from hazardloop.privacy.sealing import ERASED_API, TextVault
from hazardloop.projections import Writer
from hazardloop.projections.definition import Delivery
from hazardloop_console.projection import projection
from hazardloop_console.similar.indexer import DescriptionIndexer
from hazardloop_console.similar.tokens import index_key
from hazardloop_console.store import metadata
from tests.factories import report_filed

SECRET = b"the group's pseudonym key"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class ClearTexts(TextVault):
    """Texts already in clear: opened as they are."""

    def __init__(self) -> None:  # holds no keys and needs no broker
        pass

    async def reveal(self, value, *, erased: str = ERASED_API):
        return value


@cache
def key_of(tenant: str) -> bytes:
    return index_key(SECRET, tenant)


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.projection = projection(None, DescriptionIndexer(ClearTexts, key_of))
        self.sequence = 0
        metadata.create_all(engine)

    def fold(self, *events: Event) -> None:
        deliveries = []
        for event in events:
            self.sequence += 1
            deliveries.append(Delivery(self.sequence, f"hazard.{event.tenant}.report.{event.aggregate_id}.{event.type}", event))
        asyncio.run(self.projection.prepare(deliveries))
        with self.engine.begin() as connection:
            writer = Writer(connection)
            self.projection.handle(writer, deliveries, after=0)
            writer.flush()

    def file(self, description: str, *, tenant: str = "refinery", day: int, site: str = "North", area: str = "Pump house",
             spot: str = "Bay 1", tag: str | None = None, category: str = "unsafe_equipment", subtype: str = "other") -> str:
        event = report_filed(
            tenant, description=description, category=category, subtype=subtype,
            location=Location(site=site, area=area, spot=spot, equipment_tag=tag), occurred_at=START + timedelta(days=day),
            observed_at=START + timedelta(days=day),
        )
        self.fold(event)
        return event.aggregate_id

    def shred(self, tenant: str, report_id: str) -> None:
        self.fold(ReportTextShredded.record(prev_hash=GENESIS_HASH, tenant=tenant, aggregate_id=report_id, actor="policy:retention",
                                            reason="retention"))
