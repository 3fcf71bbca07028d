"""My reports: the page where a signed-in reporter finds their own reports and who looked
at their identity (signed out, it offers the sign-in)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hazardloop.runtime.service import RuntimeDep
from hazardloop.web.labels import label
from hazardloop_intake.i18n import language
from hazardloop_intake.mine import looks_at_identity, my_reports
from hazardloop_intake.pages import render
from hazardloop_intake.reporter_session import SignedInReporter
from hazardloop_intake.signin import signin_notice

routes = APIRouter(include_in_schema=False)


@routes.get("/f/mine", response_class=HTMLResponse)
async def my_reports_page(
    request: Request, runtime: RuntimeDep, reporter: SignedInReporter, lang: str | None = None, signin: str | None = None
) -> HTMLResponse:
    chosen = language(lang, request.headers.get("accept-language"))
    here = f"/f/mine?lang={chosen}"
    notice = signin_notice(signin, chosen)
    if reporter is None:
        return render(
            "mine.html", chosen, reporter=None, notice=notice, here=here,
            signin_url="/f/signin?" + urlencode({"next": here, "lang": chosen}),
        )
    pseudonyms = await runtime.pseudonyms_of(reporter.principal(runtime.settings.tenants))
    found = await asyncio.to_thread(my_reports, runtime, pseudonyms, chosen)
    looked = await runtime.texts.reveal(await asyncio.to_thread(looks_at_identity, runtime, pseudonyms, chosen), erased=label("erased_text", chosen))
    return render("mine.html", chosen, reporter=reporter, reports=found, looked=looked, notice=notice, here=here)
