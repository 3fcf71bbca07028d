"""A short demo through the real HTTP APIs: reports filed, verified, rectified, rewarded.

Every request carries a fixed Idempotency-Key, so running the demo again over the
same log adds nothing: it shows the same reports where they are.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
from rich.console import Console
from rich.table import Table

from hazardloop.auth import Authenticator, Role
from hazardloop.settings import CommonSettings

console = Console()

TENANT = "refinery"
OBSERVED_AT = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
"""Fixed, so that a second run sends the very same reports and the keys recognise them."""
DEMO_REPORTS = [
    {
        "key": "demo-report-0001",
        "category": "unsafe_equipment",
        "description": "Hydrogen sulphide detector on the sour water stripper reads zero and its alarm light is off.",
        "location": {"site": "Refinery North", "area": "Sour water unit", "spot": "Detector AT-2031"},
        "verify": {"outcome": "confirmed_hazard", "grade": "major", "comment": "Detector was bypassed."},
        "rectify": {"measures": "Detector replaced and recalibrated; bypass removed; alarm tested."},
    },
    {
        "key": "demo-report-0002",
        "category": "unsafe_behaviour",
        "description": "Contractor welding on the pipe rack without a hot-work permit or fire watch.",
        "location": {"site": "Refinery North", "area": "Pipe rack 3", "spot": "Bay 3-14"},
        "verify": {"outcome": "confirmed_hazard", "grade": "general", "comment": "Work stopped on the spot."},
        "rectify": {"measures": "Permit issued, fire watch posted, contractor briefed."},
    },
    {
        "key": "demo-report-0003",
        "category": "management_defect",
        "description": "Emergency drill schedule for the tank farm is two months out of date on the notice board.",
        "location": {"site": "Refinery North", "area": "Tank farm", "spot": "Control room notice board"},
        "verify": {"outcome": "valid_not_hazard", "comment": "Schedule updated; drills were held."},
    },
]


def seed(urls: dict[str, str], settings: CommonSettings, *, timeout: float = 30) -> None:
    auth = Authenticator(settings.secret("jwt"), settings.tenants)
    reporter = auth.issue("emp-10482", [TENANT], [Role.REPORTER])
    verifier = auth.issue("safety-officer-li", [TENANT], [Role.VERIFIER])
    finance = auth.issue("finance-zhao", [TENANT], [Role.FINANCE])
    with httpx.Client(timeout=10) as http:
        report_ids = []
        for index, demo in enumerate(DEMO_REPORTS):
            body = {
                "tenant": TENANT,
                "category": demo["category"],
                "description": demo["description"],
                "location": demo["location"],
                "observed_at": (OBSERVED_AT + timedelta(minutes=17 * index)).isoformat(),
            }
            response = http.post(
                f"{urls['intake']}/reports", json=body, headers=_bearer(reporter) | {"Idempotency-Key": demo["key"]}
            )
            response.raise_for_status()
            report_ids.append(response.json()["report_id"])
        for demo, report_id in zip(DEMO_REPORTS, report_ids, strict=True):
            _until(lambda rid=report_id: http.get(
                f"{urls['intake']}/reports/{rid}", headers=_bearer(verifier)
            ).status_code == 200, timeout)
            _until(lambda rid=report_id: _case_known(http, urls, verifier, rid), timeout)
            _post_once(http, f"{urls['verification']}/reports/{report_id}/verification", demo["verify"], verifier)
            if "rectify" in demo:
                _post_once(http, f"{urls['verification']}/reports/{report_id}/rectification", demo["rectify"], verifier)
        for report_id in report_ids:
            _until(lambda rid=report_id: http.get(
                f"{urls['rewards']}/rewards/{rid}", headers=_bearer(finance)
            ).status_code == 200, timeout)
        _until(lambda: len(http.get(f"{urls['notifications']}/inbox", headers=_bearer(reporter)).json()) >= 11, timeout)
        _show(http, urls, reporter, finance, report_ids)
    console.print("\nTry it (tokens valid 8 hours; mint more with `hazardloop token`):")
    console.print(f"  export REPORTER={reporter}")
    console.print(f"  curl -s -H \"Authorization: Bearer $REPORTER\" {urls['notifications']}/inbox")
    console.print(f"  curl -s -H \"Authorization: Bearer $REPORTER\" {urls['intake']}/reports")
    console.print(f"  open {urls['intake']}/docs  (and /docs, /asyncapi on every service)")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _case_known(http: httpx.Client, urls: dict[str, str], verifier: str, report_id: str) -> bool:
    for stage in ("filed", "verified", "rectified", "not_confirmed"):
        queue = http.get(f"{urls['verification']}/queue", params={"tenant": TENANT, "stage": stage}, headers=_bearer(verifier))
        if any(case["report_id"] == report_id for case in queue.json()):
            return True
    return False


def _post_once(http: httpx.Client, url: str, body: dict, token: str) -> None:
    """Post a command; 409 means an earlier demo run already did it."""
    response = http.post(url, json=body, headers=_bearer(token))
    if response.status_code != 409:
        response.raise_for_status()


def _until(check, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the demo did not progress in time; see the service logs")
        time.sleep(0.1)


def _show(http: httpx.Client, urls: dict[str, str], reporter: str, finance: str, report_ids: list[str]) -> None:
    table = Table(title=f"Demo reports in {TENANT!r}, as the services see them now")
    for column in ("report", "status (intake)", "grade", "reward (rewards)", "inbox messages"):
        table.add_column(column)
    inbox = http.get(f"{urls['notifications']}/inbox", headers=_bearer(reporter)).json()
    for report_id in report_ids:
        report = http.get(f"{urls['intake']}/reports/{report_id}", headers=_bearer(reporter)).json()
        reward = http.get(f"{urls['rewards']}/rewards/{report_id}", headers=_bearer(finance)).json()
        messages = [m["kind"] for m in inbox if m["report_id"] == report_id]
        table.add_row(
            report_id[:8],
            report["status"],
            report.get("grade") or "-",
            f"{reward['amount_fen'] / 100:.2f} yuan ({reward['status']})",
            ", ".join(reversed(messages)),
        )
    console.print(table)
