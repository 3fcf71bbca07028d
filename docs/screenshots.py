"""Screenshots of the console's main pages, for docs/console.md: each at a phone's and a
desktop's size, in Chinese, over the demo's data.

Run from the repository's root with the project's environment (it starts its own
nats-server and the five services on free ports, as the end-to-end tests do, seeds the
demo through the real APIs, and stops everything when done):

    .venv/bin/python docs/screenshots.py

Not part of `make test`: it writes the PNGs in docs/screenshots/. The pages are in
Chinese, so the machine needs a CJK font (Debian: `apt-get install fonts-wqy-microhei`).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
PAGES = [  # (file name, who signs in (None: nobody), the page, what shows once it has loaded, sizes)
    ("signin", None, "/signin", "form[action='/signin/dev']", ("phone", "desktop")),
    ("queue", "李安全（炼油厂安全员）", "/console/queue", "li.case", ("phone", "desktop")),
    ("case", "李安全（炼油厂安全员）", None, ".facts", ("phone", "desktop")),
    ("tasks", "陈维修（整改责任人）", "/console/tasks", "li.task", ("phone",)),
    ("decisions", "王经理（安全部经理）", "/console/decisions", "h1", ("phone", "desktop")),
    ("approvals", "张部长（部门负责人）", "/console/rewards/approvals", "h1", ("phone", "desktop")),
    ("payments", "赵会计（财务）", "/console/rewards/payments", "h1", ("phone", "desktop")),
    ("dashboard", "刘总（集团总部）", "/console/dashboard", "#chart-category svg", ("phone", "desktop")),
    ("audit", "钱审计（审计）", "/console/audit", "h1", ("phone", "desktop")),
]


def shoot(browser, console: str, case_path: str) -> list[Path]:
    saved = []
    for name, who, path, ready, sizes in PAGES:
        for size in sizes:
            context = browser.new_context(
                viewport=SIZES[size], device_scale_factor=1, locale="zh-CN", is_mobile=size == "phone", has_touch=size == "phone"
            )
            page = context.new_page()
            page.goto(f"{console}/signin")
            if who:
                page.get_by_role("button", name=who).click()
            page.goto(f"{console}{path or case_path}")
            page.locator(ready).first.wait_for()
            target = OUT / f"{name}-{size}.png"
            page.screenshot(path=target, animations="disabled")
            saved.append(target)
            context.close()
    return saved


def main() -> None:
    if not subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout.strip():
        sys.exit("No Chinese font: the screenshots would show boxes. Install one, e.g. apt-get install fonts-wqy-microhei")
    sys.path.insert(0, str(ROOT))  # the end-to-end tests' system, reused as it is
    from hazardloop.tools.demo import seed
    from hazardloop.log.natsserver import NatsServer
    from hazardloop.tools.registry import SERVICES
    from hazardloop.runtime.settings import CommonSettings
    from tests.browser import chromium
    from tests.e2e.conftest import TENANTS, System
    from tests.waiting import wait_for

    class DemoSystem(System):
        def catalogue(self) -> None:
            """None of the tests' places: the demo brings its own."""

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hazardloop-screenshots-") as folder:
        state = Path(folder)
        broker = NatsServer(state / "nats").start()
        token = uuid.uuid4().hex[:10]
        system = DemoSystem(broker.url, state, f"HL_{token.upper()}", f"hl{token}")
        try:
            system.start(*SERVICES)
            urls = {service: system.url(service) for service in SERVICES}
            settings = CommonSettings(jwt_secret=system.env["HAZARDLOOP_JWT_SECRET"], tenants=TENANTS, state_dir=state)
            seed(urls, settings)
            with chromium() as browser:
                officer = browser.new_page()
                officer.goto(f"{urls['console']}/signin")
                officer.get_by_role("button", name="李安全（炼油厂安全员）").click()
                wait_for(lambda: officer.goto(f"{urls['console']}/console/queue") and officer.locator("li.case").count() >= 3, timeout=30)
                case_path = officer.locator("li.case a").first.get_attribute("href")
                officer.close()
                for path in shoot(browser, urls["console"], case_path):
                    print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB")
        finally:
            system.stop()
            broker.stop()


if __name__ == "__main__":
    main()
