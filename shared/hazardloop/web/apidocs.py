"""A service's OpenAPI document as a page to read and try, with no file from outside the service.

FastAPI's own ``/docs`` loads Swagger UI from a CDN; this one loads the vendored copy. No
ReDoc page: Swagger UI already renders the same document, and one renderer is one
bundle fewer to vet and keep current.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from hazardloop.web import assets


def api_docs_routes(title: str, openapi_url: str) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    def docs(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=assets.url(request, openapi_url),
            title=f"{title} - Swagger UI",
            swagger_js_url=assets.url(request, assets.SWAGGER_UI_JS),
            swagger_css_url=assets.url(request, assets.SWAGGER_UI_CSS),
            swagger_favicon_url=assets.url(request, assets.SWAGGER_UI_FAVICON),
            # Off: on any host but localhost Swagger UI would send the document to validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )

    return router
