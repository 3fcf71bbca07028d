"""A service's AsyncAPI document over HTTP: JSON, YAML and a page to read it.

Served here rather than by FastStream's own page: it comes with a "try it out"
endpoint that publishes whatever it is sent to the broker, without a token, its YAML is
served as a download of no particular type, and its page loads its script, style and
icons from CDNs a plant's offline network cannot reach.
"""

from __future__ import annotations

import html
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from faststream.specification import AsyncAPI

from hazardloop.web import assets

PAGE_CONFIG = {
    "show": dict.fromkeys(["sidebar", "info", "servers", "operations", "messages", "schemas", "errors"], True),
    "expand": {"messageExamples": True},
    "sidebar": {"showServers": "byDefault", "showOperations": "byDefault"},
}
"""What FastStream's own page shows, without its "try it out" plugin."""


class YAMLResponse(Response):
    media_type = "application/yaml"


def event_docs_routes(event_docs: AsyncAPI) -> APIRouter:
    router = APIRouter(tags=["asyncapi"])

    def specification() -> Any:
        return event_docs.to_specification()

    @router.get("/asyncapi", response_class=HTMLResponse)
    def page(request: Request) -> HTMLResponse:
        """The events this service publishes, as a page to read (no "try it out": only commands append)."""
        return HTMLResponse(asyncapi_page(specification().to_jsonable(), event_docs.title, request))

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


def asyncapi_page(document: dict[str, Any], title: str, request: Request) -> str:
    """The AsyncAPI React component rendering ``document``, every file it needs from this service."""
    render = {"schema": document, "config": PAGE_CONFIG}
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{html.escape(title)} AsyncAPI</title>
<link rel="stylesheet" href="{assets.url(request, assets.ASYNCAPI_CSS)}">
<style>html {{ font-family: ui-sans-serif, system-ui, sans-serif; line-height: 1.5; }}</style>
</head>
<body>
<div id="asyncapi"></div>
<script src="{assets.url(request, assets.ASYNCAPI_JS)}"></script>
<script>window.AsyncApiStandalone.render({script_json(render)}, document.getElementById("asyncapi"));</script>
</body>
</html>"""


def script_json(value: Any) -> str:
    """JSON safe inside a <script> element: no text of the document can close it."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
