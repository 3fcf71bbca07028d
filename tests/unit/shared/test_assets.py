"""Every file a page loads comes from the service itself, and every vendored file is accounted for with its licence.

The pages are rendered in Chromium with outside requests blocked in tests/e2e/test_offline_pages.py;
these check each service's pages and the vendored folder without a browser.
"""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from importlib.resources import files

import pytest
from fastapi.testclient import TestClient

from hazardloop.tools.registry import SERVICES, app_module
from hazardloop.web import assets
from hazardloop.web.eventdocs import script_json

PACKAGE = files("hazardloop.web.assets")
VENDOR = PACKAGE / "vendor"


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def links_of(page: str) -> list[str]:
    parser = Links()
    parser.feed(page)
    return parser.urls


@pytest.fixture(scope="module", params=SERVICES)
def service(request, tmp_path_factory) -> TestClient:
    """A service's HTTP app, not started: its pages and files need no broker."""
    module = app_module(request.param)
    settings = module.Settings(
        state_dir=str(tmp_path_factory.mktemp(request.param)),
        nats_url="nats://127.0.0.1:1",
        jwt_secret="assets-only",
        pseudonym_key="assets-only",
    )
    return TestClient(module.build(settings))


@pytest.mark.parametrize("page", ["/docs", "/asyncapi"])
def test_every_file_a_documentation_page_loads_is_served_by_the_service_for_a_year(service, page):
    answer = service.get(page)
    assert answer.status_code == 200
    urls = links_of(answer.text)
    assert any(url.endswith(".js") for url in urls) and any(url.endswith(".css") for url in urls)
    for url in urls:
        assert url.startswith("/assets/vendor/"), url
        served = service.get(url)
        assert served.status_code == 200, url
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_swagger_ui_does_not_send_the_document_to_its_online_validator(service):
    assert '"validatorUrl": null' in service.get("/docs").text


def test_there_is_no_redoc_page_loading_a_cdn(service):
    assert service.get("/redoc").status_code == 404


@pytest.mark.parametrize("page", ["/docs", "/asyncapi"])
def test_the_pages_find_their_files_behind_a_proxy_that_adds_a_prefix(service, page):
    prefixed = TestClient(service.app, root_path="/intake").get(page)
    assert prefixed.status_code == 200
    assert links_of(prefixed.text) and all(url.startswith("/intake/assets/vendor/") for url in links_of(prefixed.text))
    assert page != "/docs" or "url: '/intake/openapi.json'" in prefixed.text


def test_no_text_in_the_event_document_can_close_the_page_script():
    embedded = script_json({"description": "</script><script>alert(1)</script> & more"})
    assert "<" not in embedded and ">" not in embedded and "&" not in embedded


def vendored_table() -> list[dict[str, str]]:
    rows = [line for line in (PACKAGE / "README.md").read_text().splitlines() if line.startswith("| `")]
    keys = ["folder", "package", "version", "licence", "files"]
    return [dict(zip(keys, (cell.strip() for cell in row.strip("|").split("|")), strict=True)) for row in rows]


def test_each_vendored_package_is_listed_with_its_version_and_licence_beside_its_files():
    table = vendored_table()
    assert {row["folder"].strip("`") for row in table} == {folder.name for folder in VENDOR.iterdir()}
    for row in table:
        folder = VENDOR / row["folder"].strip("`")
        assert folder.name.endswith(f"-{row['version']}") and row["licence"]
        listed = {name.rsplit("/", 1)[-1] for name in re.findall(r"`([^`]+)`", row["files"])}
        assert "LICENSE" in listed
        assert listed == {path.name for path in folder.iterdir()}, folder.name


def test_vendored_files_are_the_packages_bytes_unchanged():
    sums = dict(line.split("  ")[::-1] for line in (PACKAGE / "SHA256SUMS").read_text().splitlines())
    on_disk = {f"{folder.name}/{path.name}": path for folder in VENDOR.iterdir() for path in folder.iterdir()}
    assert set(sums) == set(on_disk)
    for name, path in on_disk.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sums[name], name


@pytest.mark.parametrize(
    "url", [assets.SWAGGER_UI_JS, assets.SWAGGER_UI_CSS, assets.ASYNCAPI_JS, assets.ASYNCAPI_CSS, assets.HTMX_JS, assets.ECHARTS_JS]
)
def test_each_named_asset_is_a_vendored_file(url):
    assert (VENDOR / url.removeprefix(f"{assets.VENDOR_PATH}/")).is_file()
