"""Earlier reports like this one, across the subsidiaries the officer sees, best first.

Candidates come from three seeks, each bounded: reports whose descriptions share this
one's rarer tokens (the blind index), the same equipment tag and the same place (site,
area and spot) in the same subsidiary. Each is scored (``docs/console.md``, Similar
earlier reports):

* description: the rarity-weighted share of this report's tokens the other holds,
  ``sum(idf of shared) / sum(idf of all)``, with ``idf = ln(1 + N / df)`` in the other's
  subsidiary (``N`` its reports, ``df`` those holding the token); tokens held by more
  than 5 % of a subsidiary's reports (and at least 20 of them; at most 500) say nothing
  and are skipped. It weighs ``3 x share``, and is a reason to show the report from 0.2;
* the same equipment tag: 2; the same place: 1;
* the same category and subtype: 1 (the same category alone: 0.5), never a reason alone.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select

from hazardloop_console.similar.tokens import digest, tokens
from hazardloop_console.store import cases, place_tallies, text_index

SHOWN = 8
COMMON_SHARE, COMMON_FLOOR, MAX_POSTINGS = 0.05, 20, 500
TEXT_CANDIDATES, SEEK_CANDIDATES = 200, 50
SIMILAR_TEXT = 0.2
WEIGHTS = {"description": 3.0, "same_equipment": 2.0, "same_place": 1.0, "same_subtype": 1.0, "same_category": 0.5}
COLUMNS = (
    cases.c.report_id, cases.c.tenant, cases.c.filed_at, cases.c.state, cases.c.category, cases.c.subtype,
    cases.c.description, cases.c.site, cases.c.area, cases.c.spot, cases.c.equipment_tag,
)
_POSTINGS = (
    select(text_index.c.report_id)
    .where(text_index.c.tenant == bindparam("tenant"), text_index.c.digest == bindparam("digest"))
    .limit(bindparam("cap"))
)


@dataclass(frozen=True)
class Similar:
    """An earlier report, why it matched (``same_equipment``, ``same_place``,
    ``similar_description``) and its score."""

    row: dict[str, Any]
    reasons: tuple[str, ...]
    score: float
    description_share: float


def similar_to(
    engine: Engine, case: dict[str, Any], text: str | None, tenants: list[str], key_of: Callable[[str], bytes],
) -> list[Similar]:
    """The reports filed before ``case`` in ``tenants`` most like it (``text``: its description
    in clear; ``key_of``: a subsidiary's index key)."""
    words = tokens(text)
    with engine.connect() as db:
        shares = description_shares(db, words, tenants, key_of)
        ids = {report_id for report_id, _ in sorted(shares.items(), key=lambda item: -item[1])[:TEXT_CANDIDATES]}
        ids |= _seek(db, case, tenants, cases.c.equipment_tag == case["equipment_tag"]) if case["equipment_tag"] else set()
        ids |= _seek(db, case, tenants, cases.c.site == case["site"], cases.c.area == case["area"], cases.c.spot == case["spot"])
        ids.discard(case["report_id"])
        rows = _rows(db, ids, case, tenants)
    return ranked(case, rows, shares)


def ranked(case: dict[str, Any], rows: Iterable[dict[str, Any]], shares: dict[str, float]) -> list[Similar]:
    """Score each row against ``case``; those with a reason, best first, newest first among equals."""
    found = []
    for row in rows:
        ours = row["tenant"] == case["tenant"]
        reasons, score = [], 0.0
        if ours and case["equipment_tag"] and row["equipment_tag"] == case["equipment_tag"]:
            reasons.append("same_equipment")
            score += WEIGHTS["same_equipment"]
        if ours and (row["site"], row["area"], row["spot"]) == (case["site"], case["area"], case["spot"]):
            reasons.append("same_place")
            score += WEIGHTS["same_place"]
        share = shares.get(row["report_id"], 0.0)
        if share >= SIMILAR_TEXT:
            reasons.append("similar_description")
        score += WEIGHTS["description"] * share
        if row["category"] == case["category"]:
            score += WEIGHTS["same_subtype"] if row["subtype"] == case["subtype"] else WEIGHTS["same_category"]
        if reasons:
            found.append(Similar(row, tuple(reasons), round(score, 6), share))
    found.sort(key=lambda s: (-s.score, -s.row["filed_at"].timestamp(), s.row["report_id"]))
    return found[:SHOWN]


def description_shares(db: Connection, words: list[str], tenants: list[str], key_of: Callable[[str], bytes]) -> dict[str, float]:
    """Each report's rarity-weighted share of ``words`` (see the module's docstring)."""
    totals = dict(db.execute(
        select(place_tallies.c.tenant, func.sum(place_tallies.c.reports)).where(place_tallies.c.tenant.in_(tenants))
        .group_by(place_tallies.c.tenant)
    ).all())
    shares: dict[str, float] = defaultdict(float)
    for tenant in tenants:
        reports = int(totals.get(tenant) or 0)
        if not reports or not words:
            continue
        key = key_of(tenant)
        cap = min(MAX_POSTINGS, max(COMMON_FLOOR, int(reports * COMMON_SHARE)))
        held, whole = {}, 0.0
        for word in words:
            postings = db.execute(_POSTINGS, {"tenant": tenant, "digest": digest(key, word), "cap": cap + 1}).scalars().all()
            if len(postings) > cap:
                continue  # very common: says nothing
            weight = math.log(1 + reports / max(len(postings), 1))
            whole += weight
            for report_id in postings:
                held[report_id] = held.get(report_id, 0.0) + weight
        for report_id, weight in held.items():
            shares[report_id] = weight / whole
    return shares


def _seek(db: Connection, case: dict[str, Any], tenants: list[str], *where: Any) -> set[str]:
    if case["tenant"] not in tenants:
        return set()
    query = (
        select(cases.c.report_id)
        .where(cases.c.tenant == case["tenant"], *where, cases.c.filed_at < case["filed_at"])
        .order_by(cases.c.filed_at.desc())
        .limit(SEEK_CANDIDATES)
    )
    return set(db.execute(query).scalars())


def _rows(db: Connection, ids: set[str], case: dict[str, Any], tenants: list[str]) -> list[dict[str, Any]]:
    """The candidates' rows, filed before ``case`` in ``tenants``: read by primary key alone and
    filtered here (with the other conditions in SQL, SQLite scans a subsidiary's filing range)."""
    if not ids:
        return []
    found = (dict(row._mapping) for row in db.execute(select(*COLUMNS).where(cases.c.report_id.in_(sorted(ids)))))
    return [row for row in found if row["tenant"] in tenants and row["filed_at"] < case["filed_at"]]
