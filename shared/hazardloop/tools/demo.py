"""A short demo through the real HTTP APIs: reports filed, accepted, verified, rectified,
closed and rewarded.

Every request carries a fixed Idempotency-Key, so running the demo again over the
same log adds nothing: it shows the same reports where they are.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
from rich.console import Console
from rich.table import Table

from hazardloop.runtime.settings import CommonSettings
from hazardloop.web.auth import Authenticator, Role

console = Console()

TENANT = "refinery"
OBSERVED_AT = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
"""Fixed, so that a second run sends the very same reports and the keys recognise them."""
DEMO_PLACES = [
    {"place_id": "north", "kind": "site", "name": "炼油北区", "name_en": "Refinery North"},
    {"place_id": "sour-water", "kind": "area", "parent_id": "north", "name": "酸性水汽提装置", "name_en": "Sour water unit"},
    {"place_id": "at-2031", "kind": "spot", "parent_id": "sour-water", "name": "Detector AT-2031", "equipment_tag": "AT-2031"},
    {"place_id": "pipe-rack-3", "kind": "area", "parent_id": "north", "name": "3号管廊", "name_en": "Pipe rack 3"},
    {"place_id": "tank-farm", "kind": "area", "parent_id": "north", "name": "罐区", "name_en": "Tank farm"},
    {"place_id": "tank-farm-board", "kind": "spot", "parent_id": "tank-farm", "name": "Control room notice board"},
]
"""A small catalogue: reports name catalogued places."""
DEMO_REPORTS = [
    {
        "key": "demo-report-0001",
        "category": "unsafe_equipment",
        "description": "Hydrogen sulphide detector on the sour water stripper reads zero and its alarm light is off.",
        "subtype": "safety_device_disabled_or_damaged",
        "place": {"place_id": "at-2031"},
        "verify": {"outcome": "confirmed_hazard", "grade": "major", "comment": "Detector was bypassed.",
                   "factors": {"high_risk": True, "hard_to_handle": True}},
        "plan": {
            "responsible_person": "unit-director-zhou",
            "measures": "Replace and recalibrate the detector, remove the bypass, test the alarm chain.",
            "funds_fen": 1_860_000,
            "emergency_plan": "Portable H2S monitors for everyone in the unit until the alarm chain is proven.",
        },
        "rectify": {"measures": "Detector replaced and recalibrated; bypass removed; alarm tested."},
    },
    {
        "key": "demo-report-0002",
        "category": "unsafe_behaviour",
        "description": "Contractor welding on the pipe rack without a hot-work permit or fire watch.",
        "subtype": "rule_violation",
        "place": {"place_id": "pipe-rack-3", "spot_detail": "Bay 3-14"},
        "verify": {"outcome": "confirmed_hazard", "grade": "general", "comment": "Work stopped on the spot.",
                   "on_the_spot": {"measures": "Permit issued, fire watch posted, contractor briefed."}},
    },
    {
        "key": "demo-report-0003",
        "category": "management_defect",
        "description": "Emergency drill schedule for the tank farm is two months out of date on the notice board.",
        "subtype": "no_emergency_plan_or_drill",
        "place": {"place_id": "tank-farm-board"},
        "verify": {"outcome": "valid_not_hazard", "comment": "Schedule updated; drills were held."},
    },
]
DEMO_OPEN_REPORTS = [
    {
        "key": "demo-report-0004",
        "category": "unsafe_equipment",
        "description": "Handrail on the tank farm stairway to T-102 is corroded through and moves when leaned on.",
        "subtype": "safety_equipment_substandard",
        "place": {"place_id": "tank-farm", "spot_detail": "Stairway to T-102"},
        "verify": {"outcome": "confirmed_hazard", "grade": "larger", "comment": "Handrail taped off; stairway closed.",
                   "factors": {"at_height": True}, "rectification": {"owner": "maint-chen"}},
    },
    {
        "key": "demo-report-0005",
        "category": "unsafe_behaviour",
        "description": "两名承包商在3号管廊高处作业未系安全带。",
        "subtype": "no_protective_equipment",
        "place": {"place_id": "pipe-rack-3", "spot_detail": "Bay 3-07"},
    },
]
"""Work left for the console: one hazard being rectified by its owner, one report not yet accepted."""


def seed(urls: dict[str, str], settings: CommonSettings, *, timeout: float = 30) -> None:
    auth = Authenticator(settings.secret("jwt"), settings.tenants)
    reporter = auth.issue("emp-10482", [TENANT], [Role.REPORTER])
    verifier = auth.issue("safety-officer-li", [TENANT], [Role.VERIFIER])
    finance = auth.issue("finance-zhao", [TENANT], [Role.FINANCE])
    manager = auth.issue("safety-manager-wang", [TENANT], [Role.MANAGER])
    owner = auth.issue("maint-chen", [TENANT], [Role.RECTIFIER])
    head = auth.issue("head-of-safety-zhang", [TENANT], [Role.MANAGER])
    leader = auth.issue("deputy-director-sun", [TENANT], [Role.LEADER])
    with httpx.Client(timeout=10) as http:
        for place in DEMO_PLACES:
            http.post(f"{urls['intake']}/catalogue/places", json={"tenant": TENANT, **place}, headers=_bearer(manager)).raise_for_status()
        _until(lambda: len(http.get(
            f"{urls['intake']}/catalogue", params={"tenant": TENANT}, headers=_bearer(manager)
        ).json()) >= len(DEMO_PLACES), timeout)
        report_ids = []
        for index, demo in enumerate(DEMO_REPORTS):
            report_ids.append(_file(http, urls, reporter, demo, index=index))
        for demo, report_id in zip(DEMO_REPORTS, report_ids, strict=True):
            _until(lambda rid=report_id: http.get(
                f"{urls['intake']}/reports/{rid}", headers=_bearer(verifier)
            ).status_code == 200, timeout)
            _until(lambda rid=report_id: _case_known(http, urls, verifier, rid), timeout)
            case = f"{urls['verification']}/reports/{report_id}"
            _post_once(http, f"{case}/acceptance", {}, verifier)
            verify = demo["verify"]
            if "plan" in demo:
                deadline = (datetime.now(UTC) + timedelta(days=20)).isoformat()
                verify = verify | {"rectification": {"owner": "maint-chen", "plan": demo["plan"] | {"deadline": deadline}}}
            _post_once(http, f"{case}/verification", verify, verifier)
            if "rectify" in demo:
                _post_once(http, f"{case}/rectification", demo["rectify"], owner)
                _post_once(http, f"{case}/review", {"accept": True, "reason": "Alarm chain tested in my presence."}, verifier)
        seed_check(http, urls["verification"], auth.issue("hq-safety-he", ["*"], [Role.VERIFIER, Role.MANAGER]), report_ids[0])
        seed_budget(http, urls["rewards"], leader)
        for index, report_id in enumerate(report_ids, start=1):
            reward = f"{urls['rewards']}/rewards/{report_id}"
            _until(lambda r=reward: http.get(r, headers=_bearer(finance)).status_code == 200, timeout)
            _post_once(http, f"{reward}/approval", {"approve": True}, head)
            _until(lambda r=reward: http.get(r, headers=_bearer(finance)).json()["status"] != "proposed", timeout)
            _post_once(http, f"{reward}/payment", {"payment_reference": f"DEMO-PAY-{index:04d}"}, finance)
        for demo in DEMO_OPEN_REPORTS:
            report_id = _file(http, urls, reporter, demo, index=len(report_ids) + DEMO_OPEN_REPORTS.index(demo))
            if "verify" in demo:
                _until(lambda rid=report_id: _case_known(http, urls, verifier, rid), timeout)
                case = f"{urls['verification']}/reports/{report_id}"
                _post_once(http, f"{case}/acceptance", {}, verifier)
                _post_once(http, f"{case}/verification", demo["verify"], verifier)
        _until(lambda: len(http.get(f"{urls['notifications']}/inbox", headers=_bearer(reporter)).json()) >= 19, timeout)
        _show(http, urls, reporter, finance, report_ids)
        form = http.get(f"{urls['intake']}/places/pipe-rack-3/form-link", params={"tenant": TENANT}, headers=_bearer(manager)).json()["url"]
    if "console" in urls:
        console.print(f"\n[bold]Start here: {urls['console']}[/bold] — the console, in Chinese (English at the top right).")
        console.print("  Sign in as a demo person: 李安全 the safety officer has new reports to accept and grade;")
        console.print("  陈维修 owns a rectification; 张部长 approves rewards, 赵会计 pays them; 刘总 sees the group dashboard;")
        console.print("  何部长 follows the group-wide check for the demo's major hazard, which 周安全 answers for the mine.")
    console.print("\nOr call the APIs (tokens valid 8 hours; mint more with `hazardloop token`):")
    for line in (  # never wrapped at the terminal's width: a token or link broken in two cannot be pasted
        f"  export REPORTER={reporter}",
        f"  curl -s -H \"Authorization: Bearer $REPORTER\" {urls['notifications']}/inbox",
        f"  curl -s -H \"Authorization: Bearer $REPORTER\" {urls['intake']}/reports",
        f"  open {urls['intake']}/docs  (and /docs, /asyncapi on every service)",
        f"  open {form}  (the report form a QR code at pipe rack 3 opens; on a phone too;"
        " anonymous, or in your name after signing in as 王工人, the demo's reporter)",
        f"  open {urls['intake']}/f/mine  (my reports: 王工人's reports, after signing in)",
        f"  open {urls['intake']}/places/pipe-rack-3/qr.svg?tenant={TENANT}  (needs a manager token)",
    ):
        console.print(line, soft_wrap=True, highlight=False, markup=False)


def seed_check(http: httpx.Client, verification: str, hq_safety: str, report_id: str) -> None:
    """Group safety asks every subsidiary to look for the demo's major hazard (once: the
    same Idempotency-Key on a later run finds the same check)."""
    body = {"look_for": "H2S and gas detectors bypassed or reading zero with their alarm lights off.", "equipment": "AT-*",
            "all_subsidiaries": True}
    headers = _bearer(hq_safety) | {"Idempotency-Key": "demo-check-0001"}
    http.post(f"{verification}/reports/{report_id}/checks", json=body, headers=headers).raise_for_status()


def seed_budget(http: httpx.Client, rewards: str, leader: str) -> None:
    """The demo subsidiary's budget for this year, unless one is set: a budget a user
    changed since the last run is theirs, not the demo's."""
    year = {"tenant": TENANT, "year": datetime.now(UTC).year}
    known = http.get(f"{rewards}/budgets", params=year, headers=_bearer(leader))
    known.raise_for_status()
    if known.json()["amount_fen"] is None:
        http.put(f"{rewards}/budgets", params=year, json={"amount_fen": 10_000_000}, headers=_bearer(leader)).raise_for_status()


def _file(http: httpx.Client, urls: dict[str, str], reporter: str, demo: dict, *, index: int) -> str:
    body = {
        "tenant": TENANT,
        "category": demo["category"],
        "subtype": demo["subtype"],
        "description": demo["description"],
        **demo["place"],
        "observed_at": (OBSERVED_AT + timedelta(minutes=17 * index)).isoformat(),
    }
    response = http.post(f"{urls['intake']}/reports", json=body, headers=_bearer(reporter) | {"Idempotency-Key": demo["key"]})
    response.raise_for_status()
    return response.json()["report_id"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _case_known(http: httpx.Client, urls: dict[str, str], verifier: str, report_id: str) -> bool:
    return http.get(f"{urls['verification']}/reports/{report_id}", headers=_bearer(verifier)).status_code == 200


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
