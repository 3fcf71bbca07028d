"""The group dashboard's figures, aggregated in SQL over the console's store.

Every figure is a GROUP BY under the same WHERE clauses the officer's queue uses
(``queries.conditions_of``), and every number carries the queue filter that lists the
cases behind it: a drill-down shows exactly the cases counted, by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, and_, case, exists, func, literal, or_, select

from hazardloop_console.queries import (
    CLOCKS,
    UNGRADED,
    QueueFilter,
    clock_due,
    conditions_of,
    escalated,
    late_against,
    local_day_start,
    overdue_now,
    year_span,
)
from hazardloop_console.store import (
    WEEK_FIGURES,
    budgets,
    cases,
    paid_tallies,
    place_tallies,
    reporters,
    tallies,
    week_figures,
)
from hazardloop_console import follow_up
from hazardloop_console.tallies import SPANS

RECURRING_AT_LEAST = 2
"""Reports at one place (site, area, spot) that make it a place that keeps coming back."""
DEFAULT_WEEKS = 13
"""The period a dashboard shows unless asked: this many filing weeks up to its last day."""
PLACES_SHOWN = 20
PLACES_CHECKED = 4 * PLACES_SHOWN
"""The places most reported ever whose reports in the period are counted first: when the
last place shown has more than any other place ever had, no other can take its seat."""


def default_since(until: date) -> date:
    """The first day of the default period ending on ``until``: a Monday, ``DEFAULT_WEEKS`` weeks back."""
    return until - timedelta(days=until.weekday()) - timedelta(weeks=DEFAULT_WEEKS - 1)


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

    def instants(self) -> tuple[datetime, datetime]:
        """The period as instants: from the start of ``since`` to the end of ``until``."""
        return local_day_start(self.since, self.zone), local_day_start(self.until + timedelta(days=1), self.zone)

    def covered(self) -> tuple[str, str] | None:
        """The first and last filing weeks whose reports all fall within the period.

        A report's week is a Monday in its subsidiary's zone: two days' margin each side
        keeps every such week inside the period's days in the group's zone."""
        first = self.since + timedelta(days=2)
        first += timedelta(days=-first.weekday() % 7)
        last = self.until - timedelta(days=8)
        last -= timedelta(days=last.weekday())
        return (first.isoformat(), last.isoformat()) if first <= last else None

    def edges(self) -> list[list]:
        """The conditions of the period's rows outside the covered weeks, each edge with
        its own range of filing times (one range, so the index reads only that)."""
        start, end = self.instants()
        if (covered := self.covered()) is None:
            return [self.where()]
        first, last = (date.fromisoformat(week) for week in covered)
        tenants = cases.c.tenant.in_(self.tenants)
        before = min(end, local_day_start(first + timedelta(days=2), self.zone))
        after = max(start, local_day_start(last + timedelta(days=5), self.zone))
        return [
            [tenants, cases.c.filed_at >= start, cases.c.filed_at < before, cases.c.week < covered[0]],
            [tenants, cases.c.filed_at >= after, cases.c.filed_at < end, cases.c.week > covered[1]],
        ]

    def tallied_per_tenant(self):
        """The covered weeks' sums per subsidiary: (tenant, reports, *WEEK_FIGURES)."""
        covered = self.covered()
        weeks = week_figures.c
        reports = (
            select(tallies.c.tenant, tallies.c.week, func.sum(tallies.c.amount).label("reports"))
            .where(tallies.c.tenant.in_(self.tenants), tallies.c.week.between(*covered) if covered else literal(False))
            .group_by(tallies.c.tenant, tallies.c.week).subquery()
        )
        return (
            select(reports.c.tenant, func.sum(reports.c.reports), *(func.sum(weeks[name]) for name in WEEK_FIGURES))
            .outerjoin_from(reports, week_figures, and_(weeks.tenant == reports.c.tenant, weeks.week == reports.c.week))
            .group_by(reports.c.tenant)
        )

    def tallied(self):
        """The tallies of the covered weeks: (tenant, week, measure, amount)."""
        if (covered := self.covered()) is None:
            return select(tallies).where(literal(False))
        return select(tallies).where(tallies.c.tenant.in_(self.tenants), tallies.c.week.between(*covered))


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
    checks: list[dict[str, Any]] = field(default_factory=list)
    """Per subsidiary asked: checks elsewhere raised, answered, found, overdue (``follow_up``)."""
    signals: list[dict[str, Any]] = field(default_factory=list)
    """Per subsidiary: fraud signals raised by the rules, dismissed and confirmed by reviewers (``follow_up``)."""


def _flag(condition):
    return func.sum(case((condition, 1), else_=0))


def weekly(engine: Engine, scope: Scope) -> tuple[set[str], dict[str, dict[str, Count]], dict[str, dict[str, Count]]]:
    """Reports per filing week by category and by grade (no grade is its own key): the
    tallies of the whole weeks inside the period, the rows of its edges."""
    totals: dict[str, dict[tuple[str, str], int]] = {"category": {}, "grade": {}}

    def add(week: str, category: str, grade: str, count: int) -> None:
        for column, value in (("category", category), ("grade", grade)):
            totals[column][(value, week)] = totals[column].get((value, week), 0) + count

    with engine.connect() as db:
        tallied = scope.tallied().subquery()
        summed = select(tallied.c.week, tallied.c.measure, func.sum(tallied.c.amount)).group_by(tallied.c.week, tallied.c.measure)
        for week, measure, amount in db.execute(summed):
            if amount:
                add(week, *measure.split(" ")[1:], amount)
        for edge in scope.edges():
            query = (
                select(cases.c.week, cases.c.category, cases.c.grade, func.count()).where(*edge)
                .group_by(cases.c.week, cases.c.category, cases.c.grade)
            )
            for week, category, grade, count in db.execute(query):
                add(week, category, grade or UNGRADED, count)
    series: dict[str, dict[str, dict[str, Count]]] = {"category": {}, "grade": {}}
    for column, counted in totals.items():
        for (value, week), count in counted.items():
            series[column].setdefault(value, {})[week] = Count(count, drill(scope.base(week=week, **{column: value})))
    weeks = {week for _, week in totals["category"]}
    return weeks, series["category"], series["grade"]


def _edge_figures(scope: Scope) -> list:
    """Every figure of ``per_subsidiary`` counted row by row."""
    measures = [func.count(), _flag(overdue_now(scope.now)), _flag(escalated())]
    for clock, (done, due) in CLOCKS.items():
        measured = and_(done.is_not(None), due.is_not(None))
        measures += [_flag(measured), _flag(and_(measured, done <= due)), _flag(late_against(clock, scope.now))]
    return measures


def _ahead_figures(scope: Scope) -> list:
    """What the tallies count of a case that has not happened yet: overdue, and late on a
    clock not done, with the due time still ahead (taken back from the tallies)."""
    due = clock_due()
    measures = [literal(0), -_flag(and_(~cases.c.overdue, due.is_not(None), due >= scope.now)), literal(0)]
    for done, due in CLOCKS.values():
        measures += [literal(0), literal(0), -_flag(and_(done.is_(None), due.is_not(None), due >= scope.now))]
    return measures


NAMES = ["reports", "overdue", "escalated"] + [f"{clock} {part}" for clock in CLOCKS for part in ("measured", "within", "late")]


def per_subsidiary(engine: Engine, scope: Scope) -> dict[str, list[dict[str, Any]]]:
    """Per subsidiary: reports and reporters, overdue and escalated, and for each clock
    the reports measured (done, with a due time), within it, and late (done late, or not
    done past due), with the median time from filing to done. Whole weeks come from the
    tallies less what the cases with due times ahead have not done yet, the period's
    edges from rows."""
    summed: dict[str, dict[str, int]] = {}

    def add(tenant: str, name: str, amount: int) -> None:
        mine = summed.setdefault(tenant, dict.fromkeys(NAMES, 0))
        mine[name] += int(amount or 0)

    with engine.connect() as db:
        for tenant, *amounts in db.execute(scope.tallied_per_tenant()):
            for name, amount in zip(["reports", *WEEK_FIGURES], amounts, strict=True):
                add(tenant, name.replace("_", " "), amount)
        parts = [(_edge_figures(scope), edge) for edge in scope.edges()]
        if scope.covered():
            first, last = scope.covered()
            parts.append((_ahead_figures(scope), [cases.c.turns_until >= scope.now, cases.c.tenant.in_(scope.tenants),
                                                  cases.c.week >= first, cases.c.week <= last]))
        for measures, where in parts:
            for tenant, *values in db.execute(select(cases.c.tenant, *measures).where(*where).group_by(cases.c.tenant)):
                for name, value in zip(NAMES, values, strict=True):
                    add(tenant, name, value)
        reporting = reporters_of(db, scope)
        figures: dict[str, list[dict[str, Any]]] = {"participation": [], "late": [], "clocks": []}
        for tenant, got in sorted(summed.items()):
            if not got["reports"]:
                continue
            figures["participation"].append({"tenant": tenant, "reporters": reporting.get(tenant, 0),
                                             "reports": Count(got["reports"], drill(scope.base(tenant)))})
            figures["late"].append({
                "tenant": tenant,
                "overdue": Count(got["overdue"], drill(scope.base(tenant, overdue=True))),
                "escalated": Count(got["escalated"], drill(scope.base(tenant, escalated=True))),
            })
            for clock in CLOCKS:
                count, within, late = (got[f"{clock} {part}"] for part in ("measured", "within", "late"))
                middle = db.execute(_median(scope, tenant, clock, count)).scalar() if count else None
                figures["clocks"].append({
                    "tenant": tenant, "clock": clock, "measured": count, "within": within,
                    "share": within / count if count else None, "median_seconds": middle,
                    "late": Count(late, drill(scope.base(tenant, late_clock=clock))),
                })
    return figures


def _median(scope: Scope, tenant: str, clock: str, measured: int):
    """The middle time from filing to the clock's step in a subsidiary (the lower of two
    middles): a walk along the index of those times, stopped at the middle."""
    span = cases.c[SPANS[clock]]
    return (
        select(span).where(*scope.where(scope.base(tenant)), span.is_not(None))
        .order_by(span).limit(1).offset((measured - 1) // 2)
    )


def reporters_of(db: Connection, scope: Scope) -> dict[str, int]:
    """Distinct reporters per subsidiary in the period: those whose first or last report
    falls in it, and of the others whose reports span it, those with one inside (a seek)."""
    start, end = scope.instants()
    inside = exists().where(cases.c.tenant == reporters.c.tenant, cases.c.reporter == reporters.c.reporter,
                            cases.c.filed_at >= start, cases.c.filed_at < end)
    query = (
        select(reporters.c.tenant, func.count())
        .where(reporters.c.tenant.in_(scope.tenants), reporters.c.first_at < end, reporters.c.last_at >= start,
               or_(reporters.c.first_at >= start, reporters.c.last_at < end, inside))
        .group_by(reporters.c.tenant)
    )
    return {tenant: count for tenant, count in db.execute(query)}


def paid_between(db: Connection, tenants: list[str], start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
    """Rewards paid (fen, how many) per subsidiary from ``start`` to ``end``: the whole UTC days between
    from the tallies, the hours before and after them from the rows (by the paid index)."""
    first = datetime.combine((start - timedelta(microseconds=1)).astimezone(UTC).date() + timedelta(days=1), time.min, UTC)
    last = datetime.combine(end.astimezone(UTC).date(), time.min, UTC)
    paid: dict[str, tuple[int, int]] = {}

    def add(tenant: str, fen: int | None, count: int) -> None:
        held = paid.get(tenant, (0, 0))
        paid[tenant] = (held[0] + int(fen or 0), held[1] + int(count or 0))

    granted = [cases.c.tenant.in_(tenants), cases.c.reward_status == "granted"]
    rows = select(cases.c.tenant, func.sum(cases.c.reward_fen), func.count()).group_by(cases.c.tenant)
    if first >= last:
        edges = [(start, end)]
    else:
        edges = [(start, first), (last, end)]
        days = (
            select(paid_tallies.c.tenant, func.sum(paid_tallies.c.fen), func.sum(paid_tallies.c.rewards))
            .where(paid_tallies.c.tenant.in_(tenants),
                   paid_tallies.c.day >= first.date().isoformat(), paid_tallies.c.day < last.date().isoformat())
            .group_by(paid_tallies.c.tenant)
        )
        for tenant, fen, count in db.execute(days):
            add(tenant, fen, count)
    for a, b in edges:
        for tenant, fen, count in db.execute(rows.where(*granted, cases.c.reward_paid_at >= a, cases.c.reward_paid_at < b)):
            add(tenant, fen, count)
    return {tenant: got for tenant, got in paid.items() if got[1]}


def spend(engine: Engine, scope: Scope) -> list[dict[str, Any]]:
    """Per subsidiary and budget year the period touches: budget, committed, and paid
    (rewards granted in that year of the group's zone, whenever the report was filed)."""
    years = list(range(scope.since.year, scope.until.year + 1))
    planned = select(budgets).where(budgets.c.tenant.in_(scope.tenants), budgets.c.year.in_(years))
    with engine.connect() as db:
        paid_by = {(tenant, year): got for year in years
                   for tenant, got in paid_between(db, scope.tenants, *year_span(year, scope.zone)).items()}
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


def _places_counted(scope: Scope, limit: int | None):
    """Places by reports ever, most first, with their reports in the period (a seek each)."""
    start, end = scope.instants()
    here = place_tallies.c
    inside = select(func.count()).where(
        cases.c.tenant == here.tenant, cases.c.site == here.site, cases.c.area == here.area, cases.c.spot == here.spot,
        cases.c.filed_at >= start, cases.c.filed_at < end,
    ).scalar_subquery()
    return (
        select(here.tenant, here.site, here.area, here.spot, here.reports, inside)
        .where(here.tenant.in_(scope.tenants), here.reports >= RECURRING_AT_LEAST).order_by(here.reports.desc()).limit(limit)
    )


def places(engine: Engine, scope: Scope) -> list[dict[str, Any]]:
    """The places reported again and again, most reported first. The places most reported
    ever are counted first; only when another place could still take a seat are all."""
    with engine.connect() as db:
        likely = db.execute(_places_counted(scope, PLACES_CHECKED + 1)).all()
        if len(likely) > PLACES_CHECKED:
            shown = _ranked(likely[:PLACES_CHECKED])
            if len(shown) < PLACES_SHOWN or shown[-1][0] <= likely[PLACES_CHECKED].reports:
                likely = db.execute(_places_counted(scope, None)).all()
    return [{
        "tenant": tenant, "site": site, "area": area, "spot": spot,
        "reports": Count(reports, drill(scope.base(tenant, site=site, area=area, spot=spot))),
    } for reports, (tenant, site, area, spot) in _ranked(likely)]


def _ranked(counted) -> list[tuple[int, tuple[str, str, str, str]]]:
    """The places shown: recurring in the period, most reported first, then by name."""
    found = [(inside, (tenant, site, area, spot)) for tenant, site, area, spot, _, inside in counted]
    return sorted((f for f in found if f[0] >= RECURRING_AT_LEAST), key=lambda f: (-f[0], f[1]))[:PLACES_SHOWN]


def dashboard(engine: Engine, scope: Scope) -> Dashboard:
    weeks, by_category, by_grade = weekly(engine, scope)
    return Dashboard(
        weeks=sorted(weeks), by_category=by_category, by_grade=by_grade, spend=spend(engine, scope),
        places=places(engine, scope), checks=follow_up.checks(engine, scope),
        signals=follow_up.signals(engine, scope), **per_subsidiary(engine, scope),
    )

