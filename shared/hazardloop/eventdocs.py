"""A service's AsyncAPI document over HTTP: JSON, YAML and a page to read it.

Served here rather than by FastStream's router: its page comes with a "try it out"
endpoint that publishes whatever it is sent to the broker, without a token, and its
YAML is served as a download of no particular type.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from faststream.nats.fastapi import NatsRouter
from faststream.specification.asyncapi import get_asyncapi_html


class YAMLResponse(Response):
    media_type = "application/yaml"


def event_docs_routes(broker_router: NatsRouter) -> APIRouter:
    router = APIRouter(tags=["asyncapi"])

    def specification() -> Any:
        return broker_router.schema.to_specification()

    @router.get("/asyncapi", response_class=HTMLResponse)
    def page() -> HTMLResponse:
        """The events this service publishes, as a page to read (no "try it out": only commands append)."""
        return HTMLResponse(get_asyncapi_html(specification(), try_it_out_path=None))

    @router.get("/asyncapi.json")
    def as_json() -> dict[str, Any]:
        """The events this service publishes, as an AsyncAPI document."""
        return specification().to_jsonable()

    @router.get(
        "/asyncapi.yaml",
        response_class=YAMLResponse,
        responses={200: {"content": {YAMLResponse.media_type: {"schema": {"type": "object"}}}}},
    )
    def as_yaml() -> YAMLResponse:
        """The same AsyncAPI document in YAML."""
        return YAMLResponse(specification().to_yaml())

    return router
