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

A lookup searches at most 64 of the report's tokens (words and tags first): each token's
reports are counted by a seek stopped one past the cap, all in one statement, and only the
rare tokens' postings are read, so its cost is bounded whatever the store's size.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, TextClause, and_, func, or_, select
from sqlalchemy import text as sql

from hazardloop_console.similar.tokens import digest, tokens
from hazardloop_console.store import cases, place_tallies, text_index

SHOWN = 8
COMMON_SHARE, COMMON_FLOOR, MAX_POSTINGS = 0.05, 20, 500
TEXT_CANDIDATES, SEEK_CANDIDATES = 200, 50
SIMILAR_TEXT = 0.2
MAX_TOKENS = 64
SEEKS_PER_STATEMENT = 200
"""Under SQLite's limit of 500 terms in one compound SELECT."""
WEIGHTS = {"description": 3.0, "same_equipment": 2.0, "same_place": 1.0, "same_subtype": 1.0, "same_category": 0.5}
COLUMNS = (
    cases.c.report_id, cases.c.tenant, cases.c.filed_at, cases.c.state, cases.c.category, cases.c.subtype,
    cases.c.description, cases.c.site, cases.c.area, cases.c.spot, cases.c.equipment_tag,
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
    words = searched(text)
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
    caps = {t: min(MAX_POSTINGS, max(COMMON_FLOOR, int(n * COMMON_SHARE))) for t, n in totals.items() if n}
    asked = [(tenant, digest(key_of(tenant), word)) for tenant in tenants if tenant in caps for word in words]
    counted = _counts(db, asked, caps)
    rare = [ask for ask, held in zip(asked, counted, strict=True) if 0 < held <= caps[ask[0]]]  # more: very common, says nothing
    weights = {ask: math.log(1 + int(totals[ask[0]]) / max(held, 1)) for ask, held in zip(asked, counted, strict=True)
               if held <= caps[ask[0]]}
    whole: dict[str, float] = defaultdict(float)
    for (tenant, _), weight in weights.items():
        whole[tenant] += weight
    shares: dict[str, float] = defaultdict(float)
    for tenant, token, report_id in _postings(db, rare):
        shares[report_id] += weights[(tenant, token)] / whole[tenant]
    return shares


def _counts(db: Connection, asked: list[tuple[str, str]], caps: dict[str, int]) -> list[int]:
    """How many reports hold each token asked, counted up to one past its subsidiary's cap:
    bounded seeks in the index alone, in as few statements as SQLite allows."""
    held = [0] * len(asked)
    for first in range(0, len(asked), SEEKS_PER_STATEMENT):
        part = asked[first:first + SEEKS_PER_STATEMENT]
        values: dict[str, Any] = {}
        for number, (tenant, token) in enumerate(part):
            values |= {f"t{number}": tenant, f"d{number}": token, f"c{number}": caps[tenant] + 1}
        for number, count in db.execute(_counting(len(part)), values):
            held[first + number] = count
    return held


@lru_cache(maxsize=SEEKS_PER_STATEMENT)
def _counting(seeks: int) -> TextClause:
    """One statement of ``seeks`` capped counts (written once per size: building it as an
    expression each time cost more than running it)."""
    table = text_index.name
    return sql(" UNION ALL ".join(
        f"SELECT {n} AS asked, count(*) AS held FROM (SELECT 1 AS one FROM {table} WHERE tenant = :t{n} AND digest = :d{n} LIMIT :c{n}) AS s{n}"
        for n in range(seeks)
    ))


def _postings(db: Connection, rare: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(subsidiary, digest, report) of the rare tokens (none holds more than its cap)."""
    by_tenant: dict[str, list[str]] = defaultdict(list)
    for tenant, token in rare:
        by_tenant[tenant].append(token)
    if not by_tenant:
        return []
    query = select(text_index.c.tenant, text_index.c.digest, text_index.c.report_id).where(
        or_(*(and_(text_index.c.tenant == tenant, text_index.c.digest.in_(tokens)) for tenant, tokens in by_tenant.items()))
    )
    return [tuple(row) for row in db.execute(query)]


def searched(text: str | None) -> list[str]:
    """The tokens a lookup searches: words and tags first (the likeliest to name the equipment),
    then Chinese pairs, at most ``MAX_TOKENS`` (a long description is compared on those)."""
    found = tokens(text)
    return sorted(found, key=lambda token: not token.isascii())[:MAX_TOKENS]


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
