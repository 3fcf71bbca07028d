"""Similar earlier reports through the real services: reports filed at intake (their text
sealed), folded by the console's projection into its blind index (SQLite and PostgreSQL),
shown on the case page within the officer's subsidiaries; an erased reporter's reports are
no longer found by their words; a rebuild from the log gives the same index."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import nats
import pytest
from sqlalchemy import create_engine, func, select

from hazardloop.audit.replay import diff_stores
from hazardloop.projections.replay import rebuild
from hazardloop.web.auth import Role
from hazardloop_console.app import build
from hazardloop_console.settings import ConsoleSettings
from hazardloop_console.store import cases, metadata, text_index
from tests.conftest import fresh_postgres_schema
from tests.factories import report_body
from tests.waiting import wait_for

FILLER = ["配电室门口灭火器过期", "脚手架未挂安全网", "叉车倒车报警器损坏", "动火作业未办理作业票", "储罐区防火堤有裂缝",
          "员工未佩戴安全帽进入现场", "楼梯扶手松动", "消防通道被物料堵塞"]


def similar_panel(page: str) -> str:
    found = re.search(r'<section class="card" id="similar">(.*?)</section>', page, re.S)
    assert found, "no similar reports panel on the case page"
    return found.group(1)


def test_the_case_page_lists_the_same_leak_told_otherwise_within_the_officers_subsidiaries(harness, database_url, request):
    intake = harness.start("intake")
    console = harness.start("console", database_url=database_url)
    engine = console.app.state.runtime.engine

    def file(tenant: str, description: str, spot: str, reporter: str = "emp-1") -> str:
        body = report_body(tenant, description=description, place_id="pipe-rack", spot_detail=spot,
                           category="unsafe_equipment", subtype="other")
        answer = intake.post("/reports", json=body, headers=harness.headers(reporter, tenants=[tenant]))
        assert answer.status_code == 201, answer.text
        return answer.json()["report_id"]

    for number, words in enumerate(FILLER):
        file("refinery", words, f"Spot {number}")
    leak = file("refinery", "3号泵房 离心泵P-101 机械密封泄漏", "3号泵房", reporter="emp-leak")
    elsewhere = file("steelmill", "离心泵P-101密封处漏油", "Water pumps")
    mine = file("mine", "P-101泵密封漏油", "Sump")
    case = file("refinery", "P-101泵密封漏油", "Bay 7")
    with engine.connect() as db:
        wait_for(lambda: db.execute(select(func.count()).select_from(cases)).scalar() == len(FILLER) + 4)

    def panel(tenants: list[str], roles: list[Role], lang: str) -> str:
        page = _page_as(console, case, tenants, roles, lang)
        assert page.status_code == 200, page.text
        return similar_panel(page.text)

    officer = panel(["refinery"], [Role.VERIFIER], "en")
    assert f'href="/console/cases/{leak}">3号泵房 离心泵P-101 机械密封泄漏</a>' in officer
    assert "similar description" in officer
    assert elsewhere not in officer and mine not in officer, "a subsidiary the officer may not see was listed"
    assert f"/console/cases/{case}" not in officer, "the report itself was listed"
    group = panel(["*"], [Role.LEADER], "zh-CN")
    assert leak in group and elsewhere in group and mine in group and "描述相近" in group
    owner_page = _page_as(console, case, ["refinery"], [Role.RECTIFIER])
    assert owner_page.status_code in (403, 404)  # an owner opens only the cases given to them

    with engine.connect() as db:
        leaker = db.execute(select(cases.c.reporter).where(cases.c.report_id == leak)).scalar()
    erasure = intake.post(f"/reporters/{leaker}/erasure", json={"tenant": "refinery", "reason": "The reporter asked to be forgotten"},
                          headers=harness.headers("privacy-he", roles=[Role.CONFIDENTIALITY_OFFICER]))
    assert erasure.status_code == 200, erasure.text
    with engine.connect() as db:
        wait_for(lambda: not db.execute(select(text_index.c.digest).where(text_index.c.report_id == leak)).all())
    assert leak not in panel(["refinery"], [Role.VERIFIER], "en")

    harness.stop(console)
    live = console.app.state.runtime.settings.database_url
    rebuilt = (fresh_postgres_schema(request.getfixturevalue("postgres_url")) if live.startswith("postgresql")
               else f"sqlite:///{harness.tmp_path / 'console-rebuilt.db'}")
    asyncio.run(_rebuild_into(harness, rebuilt))
    assert [d for d in diff_stores(metadata, live, rebuilt) if not d.identical] == []
    assert _index(live) == _index(rebuilt) and len(_index(live)) > 50


def _page_as(console, report_id: str, tenants: list[str], roles: list[Role], lang: str = "en"):
    session = console.app.state.sessions.open(subject="li", name="li", tenants=tenants, roles=roles, token="-",
                                              expires_at=datetime.now(UTC) + timedelta(hours=1))
    console.cookies.set("hl_session", session)
    return console.get(f"/console/cases/{report_id}", params={"lang": lang})


async def _rebuild_into(harness, url: str) -> None:
    """The console's own rebuild (as ``hazardloop replay console`` does it), with its keys."""
    settings = ConsoleSettings(**(harness.common | {"database_url": url}))
    runtime = build(settings).state.runtime
    connection = await nats.connect(harness.nats_url)
    try:
        await runtime.open_texts(connection.jetstream(), create=False)
        await rebuild(runtime.make_runner(runtime.make_store(connection)), connection)
    finally:
        await connection.close()
        runtime.engine.dispose()


def _index(url: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as db:
            return sorted(db.execute(select(text_index)).all())
    finally:
        engine.dispose()
