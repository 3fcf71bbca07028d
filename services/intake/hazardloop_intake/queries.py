"""Reads of intake's own store: what commands depend on (the catalogue, open reports) and what pages show."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from hazardloop.events import PlaceKind
from hazardloop.privacy.receipts import receipt_digest
from hazardloop_intake.domain import Place
from hazardloop_intake.projection import CLOSED
from hazardloop_intake.store import disclosures, places, reports, thread


_PARENT, _GRANDPARENT = places.alias("parent"), places.alias("grandparent")
_PLACE_WITH_PARENTS = select(
    places, _PARENT.c.kind.label("parent_kind"), _PARENT.c.name.label("parent_name"),
    _GRANDPARENT.c.kind.label("grandparent_kind"), _GRANDPARENT.c.name.label("grandparent_name"),
).select_from(
    places.outerjoin(_PARENT, and_(_PARENT.c.tenant == places.c.tenant, _PARENT.c.place_id == places.c.parent_id)).outerjoin(
        _GRANDPARENT, and_(_GRANDPARENT.c.tenant == places.c.tenant, _GRANDPARENT.c.place_id == _PARENT.c.parent_id)
    )
)
"""A place with the kinds and names of the two places above it: the catalogue is three
levels deep, so one statement reads the whole chain (filing a report reads it each time)."""


def find_place(db: Connection, tenant: str, place_id: str) -> Place | None:
    """The place with the names of its area and site."""
    row = db.execute(_PLACE_WITH_PARENTS.where(places.c.tenant == tenant, places.c.place_id == place_id)).first()
    if row is None:
        return None
    names = {PlaceKind(row.kind): row.name}
    for kind, name in ((row.parent_kind, row.parent_name), (row.grandparent_kind, row.grandparent_name)):
        if kind is not None:
            names.setdefault(PlaceKind(kind), name)
    return Place(
        place_id=row.place_id,
        kind=PlaceKind(row.kind),
        site=names.get(PlaceKind.SITE, ""),
        area=names.get(PlaceKind.AREA),
        spot=names.get(PlaceKind.SPOT),
        equipment_tag=row.equipment_tag,
        retired=row.retired,
    )


def possible_duplicate(
    db: Connection, *, tenant: str, category: str, place_id: str, equipment_tag: str | None, since: datetime
) -> str | None:
    """The first open report of the same category on the same spot or equipment since ``since``.

    Pointing at the first report of a cluster (not the latest) keeps clusters flat.
    """
    same_place = reports.c.place_id == place_id
    where = or_(same_place, reports.c.equipment_tag == equipment_tag) if equipment_tag else same_place
    row = db.execute(
        select(reports.c.report_id, reports.c.possible_duplicate_of)
        .where(
            reports.c.tenant == tenant,
            reports.c.category == category,
            reports.c.filed_at >= since,
            reports.c.status.not_in(CLOSED),
            where,
        )
        .order_by(reports.c.filed_at, reports.c.report_id)
        .limit(1)
    ).first()
    if row is None:
        return None
    return row.possible_duplicate_of or row.report_id


def window_start(now: datetime, hours: float) -> datetime:
    return now - timedelta(hours=hours)


def reports_of(db: Connection, tenant: str, reporter: str) -> list[str]:
    """The reports a reporter filed (by pseudonym), whose text is erased with them."""
    query = select(reports.c.report_id).where(reports.c.tenant == tenant, reports.c.reporter == reporter)
    return list(db.execute(query.order_by(reports.c.filed_at)).scalars())


def past_retention(db: Connection, cutoff: datetime, *, limit: int) -> list[tuple[str, str]]:
    """(tenant, report id) of closed reports closed before ``cutoff`` whose text is still kept."""
    closed_at = func.coalesce(reports.c.closed_at, reports.c.verified_at)
    query = (
        select(reports.c.tenant, reports.c.report_id)
        .where(reports.c.status.in_(CLOSED), reports.c.text_shredded_at.is_(None), closed_at <= cutoff)
        .order_by(closed_at, reports.c.report_id)
        .limit(limit)
    )
    return [(row.tenant, row.report_id) for row in db.execute(query)]


def disclosures_of(db: Connection, pseudonyms: list[str]) -> list:
    """Who opened these reporters' identities, newest first (what the reporter may see of it)."""
    query = (
        select(disclosures).where(disclosures.c.reporter.in_(pseudonyms))
        .order_by(disclosures.c.occurred_at.desc(), disclosures.c.event_id)
    )
    return db.execute(query).all()


def report_row(db: Connection, report_id: str) -> Any:
    return db.execute(select(reports).where(reports.c.report_id == report_id)).first()


def by_receipt_code(db: Connection, code: str) -> Any:
    """The anonymous report whose receipt code this is."""
    return db.execute(select(reports).where(reports.c.receipt_digest == receipt_digest(code))).first()


def messages(db: Connection, report_id: str) -> list[Any]:
    """The thread in the order it was written."""
    return list(db.execute(select(thread).where(thread.c.report_id == report_id).order_by(thread.c.written_at, thread.c.event_id)))


def has_message(db: Connection, message_id: str) -> bool:
    """Whether the thread's read model holds this message yet."""
    return db.execute(select(thread.c.event_id).where(thread.c.event_id == message_id)).first() is not None
