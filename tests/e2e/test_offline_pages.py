"""The documentation pages, the console and the report form render in a real Chromium that can reach nothing but
the services, as on a plant's offline network."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import expect

from hazardloop.tools.registry import SERVICES
from hazardloop.web.auth import Role
from tests.factories import report_body
from tests.waiting import wait_for

RENDERED = 20_000  # ms: the AsyncAPI bundle parses the document in the browser, on a busy 2-core machine


class Offline:
    """A browser page whose every request off the loopback host is aborted and recorded."""

    def __init__(self, context) -> None:
        self.outside: list[str] = []
        self.failed_assets: list[str] = []
        context.route("**/*", self.guard)
        self.page = context.new_page()
        self.page.on("response", self.check_asset)

    def guard(self, route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort("internetdisconnected")

    def check_asset(self, response) -> None:
        if "/assets/" in response.url and response.status != 200:
            self.failed_assets.append(f"{response.status} {response.url}")


@pytest.fixture
def offline(browser):
    context = browser.new_context(locale="zh-CN")
    try:
        guarded = Offline(context)
        guarded.page.evaluate("fetch('https://cdn.jsdelivr.net/npm/x', {mode: 'no-cors'}).catch(() => null)")
        assert guarded.outside == ["https://cdn.jsdelivr.net/npm/x"]  # the guard sees what it must stop
        guarded.outside.clear()
        yield guarded
    finally:
        context.close()


def test_the_openapi_page_renders_every_operation_without_leaving_the_service(system, offline):
    system.start("intake")
    offline.page.goto(f"{system.url('intake')}/docs")
    expect(offline.page.locator(".opblock-post [data-path='/reports']")).to_be_visible(timeout=RENDERED)
    expect(offline.page.locator(".opblock-get [data-path='/reports/{report_id}']")).to_be_visible()
    assert offline.outside == [] and offline.failed_assets == []


def test_the_asyncapi_page_renders_the_published_events_without_leaving_the_service(system, offline):
    system.start("intake")
    offline.page.goto(f"{system.url('intake')}/asyncapi")
    operation = offline.page.get_by_role("heading", name=f"SEND {system.prefix}.*.*.*.ReportFiled")
    expect(operation).to_be_visible(timeout=RENDERED)
    expect(offline.page.get_by_text("An employee reported a hazard.").first).to_be_visible()
    assert offline.outside == [] and offline.failed_assets == []


def test_the_console_and_the_report_form_work_without_leaving_the_plant(system, offline):
    system.start(*SERVICES)
    page, console = offline.page, system.url("console")
    httpx.post(f"{system.url('intake')}/reports", json=report_body(), headers=system.headers("emp-1")).raise_for_status()
    manager = system.headers("safety-manager", roles=[Role.MANAGER])
    link = httpx.get(f"{system.url('intake')}/places/bay-3/form-link", params={"tenant": "refinery"}, headers=manager).json()["url"]
    page.goto(link)
    expect(page.locator("h1")).to_be_visible()
    page.goto(f"{console}/console")
    page.get_by_role("button", name="刘总（集团总部）").click()
    page.goto(f"{console}/console/queue")
    page.wait_for_function("() => window.htmx !== undefined")  # the vendored htmx ran
    wait_for(lambda: page.goto(f"{console}/console/dashboard") and page.locator("#by-category tbody tr").count() > 0)
    expect(page.locator("#chart-category svg").first).to_be_attached(timeout=RENDERED)  # the vendored ECharts drew
    assert offline.outside == [] and offline.failed_assets == []
