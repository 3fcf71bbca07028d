"""The group dashboard: reports by week, service levels, overdue and escalated cases,
reward spend against budget, participation and places that keep coming back.

Each figure is drawn by ECharts from JSON in the page and repeated as a plain table
(the page reads without JavaScript); every number links to the queue listing its cases.
Asked "as of" a past moment, the same figures come from the console's read model
replayed from the log up to that moment (``snapshots``); its numbers link nowhere, as
the queue shows cases as they are now.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

import nats.errors
from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool

from hazardloop.timing.asof import PERIOD_ENDS, AsOfRefused, end_of_last, moment_of, wall_time
from hazardloop.web.auth import Role
from hazardloop_console import figures
from hazardloop_console.follow_up import CHECK_FIGURES, SIGNAL_FIGURES
from hazardloop_console.queries import UNGRADED
from hazardloop_console.snapshots import BeforeTheLog, Snapshot, Snapshots, StillBuilding
from hazardloop_console.web import Page, for_roles, render, retry_later

log = logging.getLogger("hazardloop.console")
routes = APIRouter(prefix="/console", include_in_schema=False)

Overseer = Annotated[Page, Depends(for_roles(Role.LEADER, Role.AUDITOR))]
LONGEST_DAYS = 5 * 366


def queue_link(params: dict[str, str]) -> str:
    return "/console/queue?" + urlencode(params)


def _day(view: Page, name: str, default: date) -> date:
    text = view.request.query_params.get(name)
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        view.fields[name] = view.t("not_a_date")
        return default


def scope_of(view: Page, now: datetime) -> figures.Scope:
    """The subsidiaries and days asked for, seen at ``now``; a field asked wrongly is
    marked, and the default used."""
    tenants = view.tenants
    chosen = view.request.query_params.get("tenant") or None
    if chosen and chosen not in tenants:
        view.fields["tenant"] = view.t("invalid")
        chosen = None
    today = now.astimezone(view.zone).date()
    until = _day(view, "until", today)
    since = _day(view, "since", figures.default_since(until))
    if since > until:
        view.fields["since"] = view.t("since_after_until")
        since = until - timedelta(weeks=figures.DEFAULT_WEEKS)
    if (until - since).days > LONGEST_DAYS:
        view.fields["since"] = view.t("period_too_long")
        since = until - timedelta(days=LONGEST_DAYS)
    return figures.Scope([chosen] if chosen else tenants, since, until, now, view.zone)


def _series(weeks: list[str], series: dict[str, dict[str, figures.Count]], name, linked) -> list[dict[str, Any]]:
    return [{
        "name": name(key), "stack": "total",
        "data": [linked(counts[w]) if w in counts else 0 for w in weeks],
    } for key, counts in sorted(series.items())]


def charts(view: Page, board: figures.Dashboard, *, drill: bool = True) -> list[dict[str, Any]]:
    """What the chart script draws: categories along an axis, series of values with their
    links (none when ``drill`` is off: the figures of a past moment)."""
    grade = lambda code: view.t("ungraded") if code == UNGRADED else view.label(code)  # noqa: E731
    tenant_clock = [f"{view.label(r['tenant'])} · {view.t('clock_' + r['clock'] + '_short')}" for r in board.clocks]
    tenant_year = [f"{view.label(r['tenant'])} {r['year']}" for r in board.spend]

    def linked(count: figures.Count, value: float | None = None) -> dict[str, Any]:
        shown = count.value if value is None else value
        return {"value": shown, "link": queue_link(count.link)} if drill else {"value": shown}

    return [
        {"id": "chart-category", "x": board.weeks, "series": _series(board.weeks, board.by_category, view.label, linked)},
        {"id": "chart-grade", "x": board.weeks, "series": _series(board.weeks, board.by_grade, grade, linked)},
        {"id": "chart-clocks", "x": tenant_clock, "unit": "%", "series": [
            {"name": view.t("within_sla"), "data": [round(100 * r["share"], 1) if r["share"] is not None else 0 for r in board.clocks]},
        ]},
        {"id": "chart-late", "x": [view.label(r["tenant"]) for r in board.late], "series": [
            {"name": view.t("overdue_now"), "data": [linked(r["overdue"]) for r in board.late]},
            {"name": view.t("escalated"), "data": [linked(r["escalated"]) for r in board.late]},
        ]},
        {"id": "chart-checks", "x": [view.label(r["tenant"]) for r in board.checks], "series": [
            {"name": view.t(f"board_checks_{part}"), "data": [r[part] for r in board.checks]} for part in CHECK_FIGURES
        ]},
        {"id": "chart-signals", "x": [view.label(r["tenant"]) for r in board.signals], "series": [
            {"name": view.t(f"board_signals_{part}"), "data": [r[part] for r in board.signals]} for part in SIGNAL_FIGURES
        ]},
        {"id": "chart-spend", "x": tenant_year, "series": [
            {"name": view.t("paid"), "data": [linked(r["paid"], r["paid_fen"] / 100) for r in board.spend]},
            {"name": view.t("budget"), "data": [(r["budget_fen"] or 0) / 100 for r in board.spend]},
        ]},
        {"id": "chart-participation", "x": [view.label(r["tenant"]) for r in board.participation], "series": [
            {"name": view.t("reporters"), "data": [r["reporters"] for r in board.participation]},
            {"name": view.t("reports"), "data": [linked(r["reports"]) for r in board.participation]},
        ]},
        {"id": "chart-places", "horizontal": True,
         "x": [f"{view.label(r['tenant'])} {r['site']} / {r['area']} / {r['spot']}" for r in board.places],
         "series": [{"name": view.t("reports"), "data": [linked(r["reports"]) for r in board.places]}]},
    ]


def hours(view: Page, seconds: float | None) -> str:
    return "" if seconds is None else view.t("hours_short", h=f"{seconds / 3600:,.1f}")


def snapshots(view: Page) -> Snapshots:
    return view.request.app.state.snapshots


async def _as_of(view: Page, text: str, now: datetime) -> tuple[Snapshot | None, Response | None]:
    """The store as of the moment asked for; a moment no view can show is marked on the
    field (the page then shows no figures rather than today's), a log that cannot be read
    now is a 503 to retry."""
    try:
        moment = moment_of(text, now, view.zone)
        return await snapshots(view).at(moment, wait=view.settings.audit_check_seconds), None
    except AsOfRefused as refused:
        view.fields["as_of"] = view.t(refused.reason)
    except BeforeTheLog:
        view.fields["as_of"] = view.t("as_of_before_log")
    except StillBuilding:
        view.errors.append(view.t("as_of_building"))
        return None, retry_later(view, _page(view, scope_of(view, now), figures.Dashboard(), None, status_code=503))
    except (OSError, TimeoutError, nats.errors.Error) as exc:
        view.errors.append(view.t("log_unreachable", r=type(exc).__name__))
        return None, retry_later(view, _page(view, scope_of(view, now), figures.Dashboard(), None, status_code=503))
    except Exception:  # noqa: BLE001 - a replay that failed is the log's or the broker's trouble, never the page's
        log.warning("figures as of %s could not be computed", text, exc_info=True)
        view.errors.append(view.t("as_of_failed"))
        return None, retry_later(view, _page(view, scope_of(view, now), figures.Dashboard(), None, status_code=503))
    return None, None


def _figures(snapshot: Snapshot, scope: figures.Scope) -> figures.Dashboard:
    engine = snapshot.engine()
    try:
        return figures.dashboard(engine, scope)
    finally:
        engine.dispose()


def _field_time(moment: datetime, view: Page) -> str:
    """A moment as a date-and-time field holds it (and reads it back: ``moment_of``)."""
    return wall_time(moment, view.zone).replace(" ", "T")


def period_ends(view: Page) -> dict[str, str]:
    """The moments the shortcuts offer (the end of last month, quarter, year), as the field holds them."""
    now = datetime.now(UTC)
    return {period: _field_time(end_of_last(period, now, view.zone), view) for period in PERIOD_ENDS}


def _page(view: Page, scope: figures.Scope, board: figures.Dashboard, snapshot: Snapshot | None, *,
          status_code: int = 200) -> Response:
    ends = period_ends(view)
    return render(
        view, "dashboard.html", status_code=status_code, scope=scope, board=board,
        figures_json={"charts": charts(view, board, drill=snapshot is None)}, link=queue_link, hours=hours,
        ungraded=UNGRADED, tenants=view.tenants, snapshot=snapshot, ends=ends,
        as_of=view.request.query_params.get("as_of", "") if snapshot is None else _field_time(snapshot.moment, view),
        chosen=view.request.query_params.get("tenant") if not view.fields.get("tenant") else None,
    )


@routes.get("/dashboard")
async def dashboard_page(view: Overseer) -> Response:
    """Today's figures, or (``as_of``) the figures as they stood at a past moment."""
    now = datetime.now(UTC)
    snapshot = None
    if text := view.request.query_params.get("as_of", "").strip():
        snapshot, failed = await _as_of(view, text, now)
        if failed is not None:
            return failed
    scope = scope_of(view, snapshot.moment if snapshot else now)
    if view.fields:
        view.errors.append(view.t("fix_fields"))
    if "as_of" in view.fields:  # a past moment was asked for: today's figures would pass for its
        board = figures.Dashboard()
    elif snapshot is None:
        board = await run_in_threadpool(figures.dashboard, view.engine, scope)
    else:
        try:
            board = await run_in_threadpool(_figures, snapshot, scope)
        except OperationalError:  # its store was pruned that instant: the next view replays it again
            view.errors.append(view.t("as_of_failed"))
            return retry_later(view, _page(view, scope, figures.Dashboard(), None, status_code=503))
    return _page(view, scope, board, snapshot, status_code=422 if view.fields else 200)
