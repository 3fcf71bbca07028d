"""Photos and videos over HTTP: uploaded before the report that cites them, served to those who may see them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from sqlalchemy import select

from hazardloop.events import AttachmentRef, Sha256Hex, TenantId
from hazardloop.media.refusals import MediaRefused
from hazardloop.runtime.service import RuntimeDep
from hazardloop.web.auth import Principal, Role, authenticated, check_tenant, require
from hazardloop.web.http import refusals
from hazardloop_intake.api.reports import STAFF, IntakeDep
from hazardloop_intake.store import attachments, reports

UPLOADERS = (Role.REPORTER, Role.VERIFIER, Role.RECTIFIER)

routes = APIRouter(tags=["attachments"])


@routes.post("/attachments", status_code=status.HTTP_201_CREATED, response_model=AttachmentRef, responses=refusals(413, 415))
async def upload(
    request: Request,
    intake: IntakeDep,
    principal: Annotated[Principal, Depends(require(*UPLOADERS))],
    tenant: Annotated[TenantId, Query(description="The subsidiary the report will be filed in.")],
    filename: Annotated[str | None, Query(max_length=255, description="The file's own name; its extension must fit the content.")] = None,
) -> AttachmentRef:
    """Store a photo or video (the raw bytes as the body), stripped of its metadata; its type is read from its content.

    A picture or video ``Content-Type`` or a ``filename`` extension that the content
    contradicts is refused (415), as are files that do not decode or carry megabytes of
    metadata (413). Photos are re-encoded from their pixels, videos have their metadata
    blanked: the returned digest names the stored, cleaned file. Cite it in the report's
    ``attachments``. Refusals name the field (``body``) and speak the Accept-Language.
    """
    check_tenant(principal, tenant)
    try:
        return await intake.attachments().put(
            tenant, await request.body(), declared_type=request.headers.get("content-type"), filename=filename
        )
    except MediaRefused as refused:
        reason = refused.in_language(request.headers.get("accept-language"))
        detail = [{"loc": ["body"], "msg": reason, "type": f"media.{refused.reason}"}]
        raise HTTPException(refused.status_code, detail=detail) from None


async def _may_see(runtime, principal: Principal, tenant: str, digest: str) -> bool:
    if not principal.may_access(tenant):
        return False
    if principal.has_any(STAFF):
        return True
    mine = await runtime.pseudonym_of(tenant, principal.subject)
    if mine is None:
        return False
    query = (
        select(reports.c.report_id)
        .join(attachments, attachments.c.report_id == reports.c.report_id)
        .where(attachments.c.digest == digest, reports.c.tenant == tenant, reports.c.reporter == mine)
        .limit(1)
    )
    with runtime.engine.connect() as db:
        return db.execute(query).first() is not None


@routes.get(
    "/attachments/{digest}",
    response_class=Response,
    responses={200: {"content": {"image/*": {}, "video/*": {}}}, **refusals(503)},
)
async def download(
    digest: Sha256Hex,
    runtime: RuntimeDep,
    intake: IntakeDep,
    principal: Annotated[Principal, Depends(authenticated)],
    tenant: Annotated[TenantId, Query()],
    thumbnail: bool = False,
) -> Response:
    """The file, or its thumbnail: for safety staff of the subsidiary and the reporter who cited it."""
    check_tenant(principal, tenant)
    ref = await intake.attachments().find(tenant, digest)
    if ref is None or not await _may_see(runtime, principal, tenant, digest):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no attachment {digest[:12]}... visible to you")
    if thumbnail and ref.thumbnail is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="this attachment has no thumbnail")
    data, content_type = await intake.attachments().read(tenant, ref.thumbnail if thumbnail else digest)
    headers = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff", "ETag": f'"{digest}"'}
    return Response(data, media_type=content_type, headers=headers)
