"""Third-party scripts and styles the pages need, served by the service itself.

Plants run offline intranets: a page that loads its scripts from a CDN renders blank
there. The files live in ``vendor/``, one folder per package and version (listed with
their licences in ``README.md``), so a URL names one exact file forever and browsers may
keep it for a year.
"""

from __future__ import annotations

import os

from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

VENDOR_PATH = "/assets/vendor"
"""Where ``vendor/`` is mounted on every service."""

SWAGGER_UI_JS = f"{VENDOR_PATH}/swagger-ui-5.36.0/swagger-ui-bundle.js"
SWAGGER_UI_CSS = f"{VENDOR_PATH}/swagger-ui-5.36.0/swagger-ui.css"
SWAGGER_UI_FAVICON = f"{VENDOR_PATH}/swagger-ui-5.36.0/favicon-32x32.png"
ASYNCAPI_JS = f"{VENDOR_PATH}/asyncapi-react-component-3.1.5/index.js"
ASYNCAPI_CSS = f"{VENDOR_PATH}/asyncapi-react-component-3.1.5/default.min.css"
HTMX_JS = f"{VENDOR_PATH}/htmx-2.0.11/htmx.min.js"
ECHARTS_JS = f"{VENDOR_PATH}/echarts-5.6.0/echarts.min.js"

FOR_A_YEAR = "public, max-age=31536000, immutable"


class VendoredFiles(StaticFiles):
    """Static files that never change under their URL, so browsers need not ask again."""

    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = FOR_A_YEAR
        return response


def vendored_files() -> VendoredFiles:
    """The ASGI app to mount at ``VENDOR_PATH``, reading this package's own ``vendor/`` folder."""
    return VendoredFiles(packages=[(__name__, "vendor")])


def url(request: Request, path: str) -> str:
    """A path of this app as the browser must ask for it, behind a proxy that serves the app under a prefix."""
    return request.scope.get("root_path", "").rstrip("/") + path
