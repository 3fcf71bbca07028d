"""The group dashboard's figures, aggregated in SQL over the console's store.

Every figure is a GROUP BY under the same WHERE clauses the officer's queue uses
(``queries.conditions_of``), and every number carries the queue filter that lists the
cases behind it: a drill-down shows exactly the cases counted, by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_, case, distinct, func, literal, select

from hazardloop_console.queries import (
    CLOCKS,
    UNGRADED,
    QueueFilter,
    conditions_of,
    escalated,
    late_against,
    overdue_now,
    year_span,
)
from hazardloop_console.store import budgets, cases

RECURRING_AT_LEAST = 2
"""Reports at one place (site, area, spot) that make it a place that keeps coming back."""
PLACES_SHOWN = 20


@dataclass(frozen=True)
class Scope:
    """What the dashboard looks at: some subsidiaries, reports filed within some days."""

    tenants: list[str]
    since: date
    until: date
    now: datetime
    zone: ZoneInfo

    def base(self, tenant: str | None = None, **more: Any) -> QueueFilter:
        return QueueFilter(tenant=tenant, since=self.since, until=self.until, **more)

    def where(self, wanted: QueueFilter | None = None) -> list:
        return conditions_of(self.tenants, wanted or self.base(), self.now, self.zone)


def drill(wanted: QueueFilter) -> dict[str, str]:
    """A queue filter as the queue's query parameters."""
    params = {"tenant": wanted.tenant, "category": wanted.category, "grade": wanted.grade, "area": wanted.area,
              "overdue": "1" if wanted.overdue else None}
    return {k: v for k, v in params.items() if v} | wanted.drilled()


@dataclass
class Count:
    """One number of a figure and the queue listing its cases."""

    value: int
    link: dict[str, str]


@dataclass
class Dashboard:
    weeks: list[str] = field(default_factory=list)
    by_category: dict[str, dict[str, Count]] = field(default_factory=dict)
    """category -> week -> count."""
    by_grade: dict[str, dict[str, Count]] = field(default_factory=dict)
    clocks: list[dict[str, Any]] = field(default_factory=list)
    late: list[dict[str, Any]] = field(default_factory=list)
    spend: list[dict[str, Any]] = field(default_factory=list)
    participation: list[dict[str, Any]] = field(default_factory=list)
    places: list[dict[str, Any]] = field(default_factory=list)


def _seconds(engine: Engine, later, earlier):
    if engine.dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def weekly(engine: Engine, scope: Scope) -> tuple[set[str], dict[str, dict[str, Count]], dict[str, dict[str, Count]]]:
    """Reports per filing week by category and by grade (no grade is its own key), from
    one GROUP BY over the three; the groups (not the reports) are summed here."""
    query = (
        select(cases.c.week, cases.c.category, cases.c.grade, func.count()).where(*scope.where())
        .group_by(cases.c.week, cases.c.category, cases.c.grade)
    )
    totals: dict[str, dict[tuple[str, str], int]] = {"category": {}, "grade": {}}
    with engine.connect() as db:
        for week, category, grade, count in db.execute(query):
            for column, value in (("category", category), ("grade", grade or UNGRADED)):
                totals[column][(value, week)] = totals[column].get((value, week), 0) + count
    series: dict[str, dict[str, dict[str, Count]]] = {"category": {}, "grade": {}}
    for column, counted in totals.items():
        for (value, week), count in counted.items():
            series[column].setdefault(value, {})[week] = Count(count, drill(scope.base(week=week, **{column: value})))
    weeks = {week for _, week in totals["category"]}
    return weeks, series["category"], series["grade"]


def _flag(condition):
    return func.sum(case((condition, 1), else_=0))


def per_subsidiary(engine: Engine, scope: Scope) -> dict[str, list[dict[str, Any]]]:
    """In one pass per subsidiary: reports and reporters, overdue and escalated, and for
    each clock the reports measured (done, with a due time), within it, and late (done
    late, or not done past due), with the median time from filing to done."""
    measures = [
        func.count(), func.count(distinct(cases.c.reporter)), _flag(overdue_now(scope.now)), _flag(escalated()),
    ]
    for clock, (done, due) in CLOCKS.items():
        measured = and_(done.is_not(None), due.is_not(None))
        measures += [_flag(measured), _flag(and_(measured, done <= due)), _flag(late_against(clock, scope.now))]
    query = select(cases.c.tenant, *measures).where(*scope.where()).group_by(cases.c.tenant).order_by(cases.c.tenant)
    figures: dict[str, list[dict[str, Any]]] = {"participation": [], "late": [], "clocks": []}
    with engine.connect() as db:
        for tenant, reports, reporters, overdue, raised, *clocks in db.execute(query):
            figures["participation"].append({"tenant": tenant, "reporters": reporters, "reports": Count(reports, drill(scope.base(tenant)))})
            figures["late"].append({
                "tenant": tenant,
                "overdue": Count(int(overdue or 0), drill(scope.base(tenant, overdue=True))),
                "escalated": Count(int(raised or 0), drill(scope.base(tenant, escalated=True))),
            })
            for index, clock in enumerate(CLOCKS):
                count, within, late = (int(value or 0) for value in clocks[3 * index : 3 * index + 3])
                middle = db.execute(_median(engine, scope, tenant, clock, count)).scalar() if count else None
                figures["clocks"].append({
                    "tenant": tenant, "clock": clock, "measured": count, "within": within,
                    "share": within / count if count else None, "median_seconds": middle,
                    "late": Count(late, drill(scope.base(tenant, late_clock=clock))),
                })
    return figures


def _median(engine: Engine, scope: Scope, tenant: str, clock: str, measured: int):
    """The middle time from filing to the clock's step in a subsidiary (the lower of two
    middles): one ordered read of its measured rows, stopped at the middle."""
    done, due = CLOCKS[clock]
    span = _seconds(engine, done, cases.c.filed_at)
    return (
        select(span).where(*scope.where(scope.base(tenant)), done.is_not(None), due.is_not(None))
        .order_by(span).limit(1).offset((measured - 1) // 2)
    )


def spend(engine: Engine, scope: Scope) -> list[dict[str, Any]]:
    """Per subsidiary and budget year the period touches: budget, committed, and paid
    (rewards granted in that year of the group's zone, whenever the report was filed)."""
    years = list(range(scope.since.year, scope.until.year + 1))
    spans = {year: year_span(year, scope.zone) for year in years}
    year_of = case(*((and_(cases.c.reward_paid_at >= a, cases.c.reward_paid_at < b), literal(y)) for y, (a, b) in spans.items()), else_=None)
    paid = (
        select(cases.c.tenant, year_of.label("year"), func.sum(cases.c.reward_fen), func.count())
        .where(cases.c.tenant.in_(scope.tenants), cases.c.reward_status == "granted", year_of.is_not(None))
        .group_by(cases.c.tenant, year_of)
    )
    planned = select(budgets).where(budgets.c.tenant.in_(scope.tenants), budgets.c.year.in_(years))
    with engine.connect() as db:
        paid_by = {(tenant, int(year)): (int(fen or 0), count) for tenant, year, fen, count in db.execute(paid)}
        budget_by = {(row.tenant, row.year): row for row in db.execute(planned)}
    rows = []
    for tenant, year in sorted({*paid_by, *budget_by}):
        fen, count = paid_by.get((tenant, year), (0, 0))
        budget = budget_by.get((tenant, year))
        rows.append({
            "tenant": tenant, "year": year, "paid_fen": fen,
            "paid": Count(count, drill(QueueFilter(tenant=tenant, reward="granted", paid_year=year))),
            "budget_fen": budget.amount_fen if budget else None,
            "committed_fen": budget.committed_fen if budget else 0,
        })
    return rows


def places(engine: Engine, scope: Scope) -> list[dict[str, Any]]:
    """The places reported again and again, most reported first."""
    count = func.count().label("reports")
    query = (
        select(cases.c.tenant, cases.c.site, cases.c.area, cases.c.spot, count)
        .where(*scope.where()).group_by(cases.c.tenant, cases.c.site, cases.c.area, cases.c.spot)
        .having(func.count() >= RECURRING_AT_LEAST)
        .order_by(count.desc(), cases.c.tenant, cases.c.site, cases.c.area, cases.c.spot).limit(PLACES_SHOWN)
    )
    with engine.connect() as db:
        return [{
            "tenant": tenant, "site": site, "area": area, "spot": spot,
            "reports": Count(reports, drill(scope.base(tenant, site=site, area=area, spot=spot))),
        } for tenant, site, area, spot, reports in db.execute(query)]


def dashboard(engine: Engine, scope: Scope) -> Dashboard:
    weeks, by_category, by_grade = weekly(engine, scope)
    return Dashboard(
        weeks=sorted(weeks), by_category=by_category, by_grade=by_grade, spend=spend(engine, scope),
        places=places(engine, scope), **per_subsidiary(engine, scope),
    )

