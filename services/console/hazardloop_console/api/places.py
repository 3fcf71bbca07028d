"""The subsidiary's places with their printable QR codes, and a report's dossier, for a
signed-in person with the right role: no bearer header to juggle in a browser.

Both come from the owning service (intake keeps the catalogue and signs the form links;
verification reads the dossier from the log), fetched with the person's own token.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from hazardloop.web.auth import Role
from hazardloop_console.api.cases import visible_case
from hazardloop_console.web import NotYours, Page, SignedIn, backends, for_roles, render

routes = APIRouter(prefix="/console", include_in_schema=False)

KEEPERS = (Role.MANAGER, Role.OPERATOR, Role.VERIFIER)
Keeper = Annotated[Page, Depends(for_roles(*KEEPERS))]


def _tenant(view: Page, tenant: str | None) -> str:
    mine = view.tenants
    if tenant is None and mine:
        return mine[0]
    if tenant not in mine:
        raise NotYours()
    return tenant


@routes.get("/places")
async def places(view: Keeper, tenant: str | None = None) -> Response:
    chosen = _tenant(view, tenant)
    listed = await backends(view).read(view.person.token, "intake", "/catalogue", tenant=chosen)
    names = {p["place_id"]: (p["name_en"] if view.language == "en" and p["name_en"] else p["name"]) for p in listed}
    rows = [
        {**place, "shown": names[place["place_id"]], "parent": names.get(place["parent_id"] or "", "")}
        for place in listed if not place["retired"]
    ]
    return render(view, "places.html", rows=rows, tenant=chosen, tenants=view.tenants)


@routes.get("/places/{tenant}/{place_id}/qr.{kind}")
async def qr_code(tenant: str, place_id: str, kind: Literal["svg", "png"], view: Keeper) -> Response:
    """The place's QR code, to print and hang where people work."""
    chosen = _tenant(view, tenant)
    answer = await backends(view).call(
        view.person.token, "intake", "GET", f"/places/{place_id[:64]}/qr.{kind}", params={"tenant": chosen}
    )
    disposition = answer.headers.get("content-disposition", "inline")
    return Response(answer.content, media_type=answer.headers.get("content-type"), headers={
        "Content-Disposition": disposition, "Cache-Control": "private, max-age=300",
    })


@routes.get("/cases/{report_id}/dossier")
async def dossier(report_id: str, view: SignedIn) -> Response:
    """The report's dossier for an external escalation, read from the log by verification."""
    visible_case(view, report_id)
    answer = await backends(view).call(
        view.person.token, "verification", "GET", f"/reports/{report_id}/dossier.html", params={"lang": view.language}
    )
    security = answer.headers.get("content-security-policy", "default-src 'none'")
    return Response(answer.content, media_type="text/html; charset=utf-8", headers={
        "Cache-Control": "private, no-store", "Content-Security-Policy": security,
    })
