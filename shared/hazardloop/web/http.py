"""HTTP plumbing common to every service: error mapping and its documentation, body limit."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hazardloop.errors import DomainError, Invalid
from hazardloop.log.eventstore import AppendOutcomeUnknown, ConcurrencyError, EventStoreUnavailable
from hazardloop.privacy.keyring import KeyUnavailable

log = logging.getLogger("hazardloop.web.http")


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


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every refusal's body: why, as text or as the fields at fault; ``state`` when the
    current state of the case is the reason. A 503 whose outcome is unknown adds
    ``outcome`` and ``event_id``, and a route may add where to find the outcome."""

    model_config = ConfigDict(extra="allow")

    detail: str | list[FieldError]
    state: str | None = None
    outcome: Literal["unknown"] | None = None
    event_id: str | None = None


REFUSALS = {
    400: "The body is not JSON.",
    401: "No valid bearer token.",
    403: "The token's roles or subsidiaries do not allow this.",
    404: "Nothing by this id is visible to the caller.",
    409: "The case's current state does not allow this, or another change came first: reload and decide again. "
    "With `Retry-After`: the record was created a moment ago and this service is still taking it in; ask again.",
    413: "The body is over the size limit.",
    415: "The body is not of an accepted type, or does not decode as the type it claims.",
    422: "A field is missing or invalid: `detail` names it.",
    429: "Too many wrong receipt codes from this address (or from all together) lately: ask again after `Retry-After` seconds.",
    503: "The event log is unavailable and nothing was stored: retry after `Retry-After` seconds. With "
    "`outcome: unknown` and the `event_id`: the log did not confirm in time and may still record it; repeat the "
    "same request (same `Idempotency-Key`) to learn the outcome.",
}
HEADERS = {
    401: {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}, "description": "Bearer"}},
    409: {"Retry-After": {"required": False, "schema": {"type": "integer"}, "description": "Seconds to wait before asking again."}},
    429: {"Retry-After": {"required": True, "schema": {"type": "integer"}, "description": "Seconds to wait before asking again."}},
    503: {"Retry-After": {"required": True, "schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}},
}


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A route's own ``responses=`` for refusals its inputs do not imply (see ``declare_refusals``)."""
    return {status: _documented(status) for status in statuses}


def declare_refusals(app: FastAPI) -> None:
    """Document on every operation the refusals it can answer, each with ``ErrorBody``.

    They follow from what the operation takes, as its own document says: a token (401,
    403), a path id (404), input (422), a body (400, 413), a command (404, 409, 503).
    A route declares any other itself with ``responses=refusals(...)``.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()
        if ErrorBody.__name__ not in document.get("components", {}).get("schemas", {}):
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(body.pop("$defs", {}))
            schemas[ErrorBody.__name__] = body
        for path in document.get("paths", {}).values():
            for method, operation in path.items():
                answers = operation["responses"]
                for status in sorted(implied_refusals(method, operation)):
                    answers.setdefault(str(status), _documented(status))
                if "422" in answers:  # one body for every 422: FastAPI's and the domain's own
                    answers["422"] = _documented(422)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def implied_refusals(method: str, operation: Mapping[str, Any]) -> set[int]:
    statuses: set[int] = set()
    parameters = operation.get("parameters", [])
    if operation.get("security"):
        statuses |= {401, 403}
    if any(p["in"] == "path" for p in parameters):
        statuses.add(404)
    if parameters or "requestBody" in operation:
        statuses.add(422)
    if "requestBody" in operation:
        statuses |= {400, 413}
    if method not in ("get", "head"):
        statuses |= {404, 409, 503}
    return statuses


def _documented(status: int) -> dict[str, Any]:
    return {
        "description": REFUSALS[status],
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ErrorBody.__name__}"}}},
        **_headers(status),
    }


def _headers(status: int) -> dict[str, Any]:
    return {"headers": HEADERS[status]} if status in HEADERS else {}


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


def same_token(sent: object, expected: str | None) -> bool:
    """Whether a posted form's token is the one expected, compared in constant time as bytes:
    a forged token with characters outside ASCII is simply wrong, never a server error."""
    return isinstance(sent, str) and bool(expected) and secrets.compare_digest(sent.encode(), expected.encode())
