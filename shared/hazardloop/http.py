"""HTTP plumbing common to every service: error mapping, body limit, health probes."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hazardloop.errors import DomainError, Invalid
from hazardloop.eventstore import AppendOutcomeUnknown, ConcurrencyError, EventStoreUnavailable
from hazardloop.keyring import KeyUnavailable

log = logging.getLogger("hazardloop.http")


def install_error_handlers(app: FastAPI, *, retry_after: int) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Name the field and the problem; never echo the input back (it may be
        # confidential, or not even encodable, such as a lone surrogate).
        detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(EventStoreUnavailable)
    async def broker_down(_: Request, exc: EventStoreUnavailable) -> JSONResponse:
        return JSONResponse(
            {
                "detail": "the event log is unavailable and did not confirm this request; retry later "
                "(a retry with the same Idempotency-Key cannot create a duplicate)"
            },
            status_code=503,
            headers={"Retry-After": str(retry_after)},
        )

    @app.exception_handler(KeyUnavailable)
    async def key_unavailable(request: Request, exc: KeyUnavailable) -> JSONResponse:
        # An operator's matter (a key missing or replaced), not the client's: say so, store nothing.
        log.error("%s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(
            {"detail": "a key this request needs is not configured on the service; nothing was stored; retry later"},
            status_code=503,
            headers={"Retry-After": str(retry_after)},
        )

    @app.exception_handler(AppendOutcomeUnknown)
    async def outcome_unknown(_: Request, exc: AppendOutcomeUnknown) -> JSONResponse:
        # Not "not stored": the log may hold it. Say how the client finds out.
        headers = {"Retry-After": str(retry_after), "Cache-Control": "no-store"}
        headers |= {"Location": exc.location} if exc.location else {}
        return JSONResponse(
            {
                "detail": "the event log did not confirm this request in time and may still record it; "
                "repeat the same request (with the same Idempotency-Key) to learn the outcome",
                "outcome": "unknown",
                "event_id": exc.event_id,
                **exc.details,
            },
            status_code=503,
            headers=headers,
        )

    @app.exception_handler(ConcurrencyError)
    async def lost_race(_: Request, exc: ConcurrencyError) -> JSONResponse:
        return JSONResponse({"detail": f"conflict: {exc}"}, status_code=409)

    @app.exception_handler(DomainError)
    async def refused(_: Request, exc: DomainError) -> JSONResponse:
        body: dict[str, Any] = {"detail": str(exc)}
        if isinstance(exc, Invalid):
            body["detail"] = [{"loc": ["body", exc.field], "msg": str(exc), "type": "value_error"}]
        if exc.state is not None:
            body["state"] = exc.state
        return JSONResponse(body, status_code=exc.status_code)


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, declared or streamed.

    ``larger`` raises the limit for paths starting with a given prefix (uploads).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, larger: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})

    def limit_for(self, path: str) -> int:
        return next((limit for prefix, limit in self.larger.items() if path.startswith(prefix)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit_for(scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
            await self._refuse(send, max_bytes)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > max_bytes:
                raise HTTPException(413, detail=f"request body larger than {max_bytes} bytes")
            return message

        await self.app(scope, limited, send)

    @staticmethod
    async def _refuse(send: Send, max_bytes: int) -> None:
        response = JSONResponse({"detail": f"request body larger than {max_bytes} bytes"}, status_code=413)
        await response({"type": "http"}, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}
