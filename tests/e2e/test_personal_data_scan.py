"""End to end: personal data typed into the system is nowhere in clear, and an erasure erases it.

A realistic run through the four services as processes (named and anonymous reports with
personal free text, casework with comments and feedback, a reward with a consented display
name, a form kept while its reporter signs in, a reporter signed in), then every raw message of every stream on the broker that belongs to this log (the
event stream, every key-value bucket, every object store) and every service's store is
searched, byte for byte, for each personal string in UTF-8 and as JSON escapes it. Whatever
is added to the run (thread messages, photos) is covered by the same search.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import nats
from nats.js.errors import BadRequestError, NotFoundError

from hazardloop.tools.registry import SERVICES
from hazardloop.web.auth import Role
from tests.factories import report_body
from tests.streams import every_stream
from tests.waiting import wait_for

EMPLOYEE = "e7301pii"
NAME = "欧阳测试"
PHONE = "13912345678"
COLLEAGUE = "王建国测"
COLLEAGUE_NUMBER = "E5512X"
COLLEAGUE_PHONE = "13800001111"
DISPLAY_NAME = "欧阳小明表彰名"
FORM_REPORTER, FORM_NAME = "emp-10482", "王工人"
"""The demo reporter, signed in on the report form (kept in intake's store while signed in)."""

TEXTS = {
    "description": f"私密描述：看到{COLLEAGUE}（工号{COLLEAGUE_NUMBER}）高处作业未系安全带，电话{COLLEAGUE_PHONE}",
    "cause_analysis": f"Private cause: {COLLEAGUE} was told by his lead to hurry",
    "suggested_fix": "Private fix: talk to the night shift lead Mr Qiao Sanzhang in person",
    "emergency_action": "私密应急：我叫停了乔三章的作业",
    "anonymous": "Anonymous private text: Ms Zhao Lingfei keeps disabling the H2S alarm",
    "anonymous_cause": "私密匿名原因：赵灵飞说报警太吵",
    "accept_note": "Private note: called the reporter at home",
    "verify_comment": f"私密核查意见：{COLLEAGUE}承认了",
    "extension_reason": "Private reason: the fitter Liu Dahai is on sick leave",
    "extension_refusal": "私密驳回理由：刘大海不是唯一的钳工",
    "rejection": "Private rejection: Liu Dahai left the anchor loose",
    "acceptance": "私密验收意见：刘大海已返工",
    "feedback": f"私密反馈：感谢您，{NAME}，已处理{COLLEAGUE}的问题",
    "reward_reason": "Private reason for the amount: the reporter Ouyang was at risk",
    "reporter_message": f"私密留言：班长{COLLEAGUE}让我别再报了",
    "staff_reply": "Private reply: we will speak to Mr Qiao Sanzhang, not name you",
    "draft": "私密草稿：孙有才在罐区吸烟，我登录后再提交",
    "check_look_for": "私密排查内容：查一查钱多多是否也把泄压阀盲死了",
    "check_more_time": "Private reason for more time: inspector Gu Xiaomei is away",
    "check_note": "私密排查备注：顾小美已逐台检查",
}
YEAR = str(datetime.now(ZoneInfo("Asia/Shanghai")).year)
PERSONAL = [EMPLOYEE, NAME, PHONE, COLLEAGUE, COLLEAGUE_NUMBER, COLLEAGUE_PHONE, DISPLAY_NAME, FORM_REPORTER, FORM_NAME, *TEXTS.values()]
"""Everything typed in that names or describes people (never the places or the measures)."""


def forms_of(text: str) -> list[bytes]:
    """How a string can sit in stored bytes: UTF-8, JSON-escaped, JSON-escaped as ASCII."""
    return list(dict.fromkeys([text.encode(), json.dumps(text)[1:-1].encode(), json.dumps(text, ensure_ascii=False)[1:-1].encode()]))


def found_in(blob: bytes) -> list[str]:
    return [text for text in PERSONAL if any(form in blob for form in forms_of(text))]


async def broker_contents(nats_url: str, stream: str) -> dict[str, list[bytes]]:
    """Every raw message (headers and data) of every stream of this log: the event stream,
    its key-value buckets (``KV_<stream>-...``) and object stores (``OBJ_<stream>-...``)."""
    connection = await nats.connect(nats_url)
    try:
        js = connection.jetstream(timeout=10)
        found: dict[str, list[bytes]] = {}
        for info in await every_stream(js):
            name = info.config.name
            if name != stream and not re.fullmatch(rf"(KV|OBJ)_{re.escape(stream)}-.+", name):
                continue
            messages = found.setdefault(name, [])
            for sequence in range(max(info.state.first_seq, 1), info.state.last_seq + 1):
                try:
                    message = await js.get_msg(name, sequence)
                except (NotFoundError, BadRequestError):
                    continue  # purged (a shredded key) or deleted
                headers = json.dumps(message.headers or {}, ensure_ascii=False).encode()
                messages.append(message.subject.encode() + b"\n" + headers + b"\n" + (message.data or b""))
        return found
    finally:
        await connection.close()


def store_files(state: Path) -> list[Path]:
    """Each service's SQLite store, with its write-ahead log and shared memory."""
    return sorted(p for p in state.iterdir() if re.search(r"\.db(-wal|-shm)?$", p.name))


def console_session(console: str, subject: str) -> httpx.Client:
    """A console session of a demo person, signed in through the development form."""
    client = httpx.Client(base_url=console, timeout=10)
    form = client.get("/signin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)[1]
    assert client.post("/signin/dev", data={"subject": subject, "csrf": csrf}).status_code == 303
    return client


def test_no_personal_data_is_stored_in_clear_and_an_erasure_erases_what_was_typed(system):
    system.start(*SERVICES)
    intake, verification, rewards, notifications = (system.url(s) for s in ("intake", "verification", "rewards", "notifications"))
    reporter = system.headers(EMPLOYEE)
    verifier = system.headers("safety-li", roles=[Role.VERIFIER])
    owner = system.headers("maint-chen", roles=[Role.RECTIFIER])
    manager = system.headers("head-wang", roles=[Role.MANAGER])
    finance = system.headers("finance-zhao", roles=[Role.FINANCE])
    officer = system.headers("privacy-qian", roles=[Role.CONFIDENTIALITY_OFFICER])
    with httpx.Client(timeout=10) as http:
        named = http.post(f"{intake}/reports", headers=reporter, json=report_body(
            description=TEXTS["description"], cause_analysis=TEXTS["cause_analysis"], suggested_fix=TEXTS["suggested_fix"],
            emergency_action=TEXTS["emergency_action"], reporter={"employee_number": EMPLOYEE, "name": NAME, "phone": PHONE},
        ))
        assert named.status_code == 201, named.text
        report_id = named.json()["report_id"]
        anonymous = http.post(f"{intake}/reports", json=report_body(
            anonymous=True, description=TEXTS["anonymous"], cause_analysis=TEXTS["anonymous_cause"]
        ), headers=reporter)
        assert anonymous.status_code == 201, anonymous.text

        case = f"{verification}/reports/{report_id}"
        wait_for(lambda: http.get(case, headers=verifier).status_code == 200)
        steps = [
            (verifier, "acceptance", {"note": TEXTS["accept_note"]}),
            (verifier, "verification", {"outcome": "confirmed_hazard", "grade": "larger", "comment": TEXTS["verify_comment"],
                                         "rectification": {"owner": "maint-chen"}}),
            (owner, "extension", {"deadline": (datetime.now(UTC) + timedelta(days=60)).isoformat(), "reason": TEXTS["extension_reason"]}),
            (manager, "extension/decision", {"approve": False, "reason": TEXTS["extension_refusal"]}),
            (owner, "rectification", {"measures": "Anchor points for harnesses installed on the platform"}),
            (verifier, "review", {"accept": False, "reason": TEXTS["rejection"]}),
            (owner, "rectification", {"measures": "Anchor points fixed and load-tested"}),
            (verifier, "review", {"accept": True, "reason": TEXTS["acceptance"]}),
            (verifier, "feedback", {"message": TEXTS["feedback"]}),
        ]
        for headers, step, body in steps:
            answer = http.post(f"{case}/{step}", json=body, headers=headers)
            assert answer.status_code == 201, (step, answer.text)

        # A check elsewhere on a major hazard: what to look for, more time asked, the answer's note.
        major = http.post(f"{intake}/reports", headers=reporter, json=report_body(description="Relief valve blanked off"))
        major_id = major.json()["report_id"]
        wait_for(lambda: http.get(f"{verification}/reports/{major_id}", headers=verifier).status_code == 200)
        graded = http.post(f"{verification}/reports/{major_id}/verification", json={"outcome": "confirmed_hazard", "grade": "major"},
                           headers=verifier)
        assert graded.status_code == 201, graded.text
        hq = system.headers("hq-safety", roles=[Role.VERIFIER, Role.MANAGER], tenants=["*"])
        raised = http.post(f"{verification}/reports/{major_id}/checks", json={"look_for": TEXTS["check_look_for"], "subsidiaries": ["mine"]},
                           headers=hq)
        assert raised.status_code == 201, raised.text
        task = f"{verification}/checks/{raised.json()['check_id']}/tasks/mine"
        mine = system.headers("mine-safety", roles=[Role.VERIFIER], tenants=["mine"])
        later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        assert http.post(f"{task}/extension", json={"deadline": later, "reason": TEXTS["check_more_time"]}, headers=mine).status_code == 201
        assert http.post(f"{task}/answer", json={"answer": "not_present", "note": TEXTS["check_note"]}, headers=mine).status_code == 201
        check = f"{verification}/checks/{raised.json()['check_id']}"
        wait_for(lambda: (c := http.get(check, headers=hq).json()).get("tasks") and c["tasks"][0]["note"] == TEXTS["check_note"])
        assert http.get(check, headers=hq).json()["look_for"] == TEXTS["check_look_for"]

        thread = f"{intake}/reports/{report_id}/thread"
        assert http.post(thread, json={"text": TEXTS["reporter_message"]}, headers=reporter).status_code == 201
        assert http.post(thread, json={"text": TEXTS["staff_reply"]}, headers=verifier).status_code == 201

        reward = f"{rewards}/rewards/{report_id}"
        wait_for(lambda: http.get(reward, headers=finance).status_code == 200, timeout=20)
        approved = http.post(f"{reward}/approval", json={"approve": True, "amount_fen": 60_000, "reason": TEXTS["reward_reason"]},
                             headers=manager)
        assert approved.status_code == 201, approved.text
        wait_for(lambda: http.get(reward, headers=finance).json()["status"] == "approved")
        assert http.post(f"{reward}/payment", json={"payment_reference": "PAY-PII-1"}, headers=finance).status_code == 201
        consent = http.post(f"{reward}/recognition", json={"consent": True, "display_name": DISPLAY_NAME}, headers=reporter)
        assert consent.status_code == 201, consent.text

        # what people read is the text they typed
        notices = f"{rewards}/notices"
        wait_for(lambda: [n["named"] for n in http.get(notices, params={"tenant": "refinery", "period": YEAR}, headers=reporter).json()]
                 == [DISPLAY_NAME])
        inbox = wait_for(lambda: [m for m in http.get(f"{notifications}/inbox", params={"lang": "en"}, headers=reporter).json()
                                  if m["kind"] == "feedback"])
        assert TEXTS["feedback"] in inbox[0]["text"]
        shown = http.get(case, headers=verifier).json()
        assert shown["description"] == TEXTS["description"]
        said = [TEXTS["feedback"], TEXTS["reporter_message"], TEXTS["staff_reply"]]  # the feedback is in the thread too
        wait_for(lambda: [m["text"] for m in http.get(thread, headers=reporter).json()] == said)
        wait_for(lambda: http.get(f"{intake}/reports/{report_id}", headers=reporter).json()["reward_fen"] == 60_000)

        # On the form: one phone half-way through signing in (its draft kept meanwhile), another signed in.
        link = http.get(f"{intake}/places/bay-3/form-link", params={"tenant": "refinery"}, headers=manager).json()["url"]
        observed = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")
        with httpx.Client(timeout=10) as phone:
            kept = phone.post(link, data={"kind": "unsafe_behaviour:no_protective_equipment", "description": TEXTS["draft"],
                                          "who": "named", "lang": "zh", "observed_at": observed})
            assert kept.status_code == 303 and "hl_draft" in kept.headers["set-cookie"], kept.text
        with httpx.Client(base_url=intake, timeout=10) as phone:
            csrf = re.search(r'name="csrf" value="([^"]+)"', phone.get("/f/signin/dev").text)[1]
            assert phone.post("/f/signin/dev", data={"subject": FORM_REPORTER, "csrf": csrf}).status_code == 303
            assert FORM_NAME in phone.get("/f/mine").text  # signed in, and the page names them to themselves

    # --- nothing personal in clear: log, buckets, object stores, every service's store --------
    contents = asyncio.run(broker_contents(system.nats_url, system.stream))
    assert system.stream in contents and any(name.startswith("KV_") for name in contents)
    measures = b"Anchor points fixed and load-tested"  # kept in clear on purpose: the search does see the log
    assert any(measures in message for message in contents[system.stream])
    for name, messages in contents.items():
        for message in messages:
            assert not found_in(message), f"{name} holds in clear: {found_in(message)}"
    for path in store_files(system.state):
        assert not found_in(path.read_bytes()), f"{path.name} holds in clear: {found_in(path.read_bytes())}"

    console = system.url("console")
    client = console_session(console, "safety-officer-li")
    try:
        wait_for(lambda: (p := client.get(f"/console/cases/{report_id}", params={"lang": "en"})).status_code == 200
                 and TEXTS["description"] in p.text and TEXTS["feedback"] in p.text)
    finally:
        client.close()

    # --- the reporter's erasure erases their report's text everywhere -----------------------
    with httpx.Client(timeout=10) as http:
        pseudonym = http.get(reward, headers=finance).json()["reporter"]
        erased = http.post(f"{intake}/reporters/{pseudonym}/erasure", json={"tenant": "refinery", "reason": "the reporter asked"},
                           headers=officer)
        assert erased.status_code == 200, erased.text
        report = wait_for(lambda: (r := http.get(f"{intake}/reports/{report_id}", headers=verifier).json())["description"] == "(erased)" and r)
        assert report["cause_analysis"] == report["suggested_fix"] == report["emergency_action"] == "(erased)"
        shown = wait_for(lambda: (c := http.get(case, headers=verifier).json())["description"] == "(erased)" and c)
        assert TEXTS["description"] not in json.dumps(shown, ensure_ascii=False)
        wait_for(lambda: http.get(reward, headers=finance).json()["reason"] == "(erased)")
        wait_for(lambda: [m["text"] for m in http.get(thread, headers=verifier).json()] == ["(erased)"] * 3)
        wait_for(lambda: [n["named"] for n in http.get(notices, params={"tenant": "refinery", "period": YEAR}, headers=reporter).json()]
                 == [None])

    def feedback_kept() -> list[str]:  # the erased reporter has no inbox any more: what the store keeps for them
        with sqlite3.connect(system.state / "notifications.db") as db:
            return [params for (params,) in db.execute("SELECT params FROM notification_inbox WHERE kind = 'feedback'")]

    assert json.loads(wait_for(lambda: (kept := feedback_kept()) and '"sealed:erased"' in kept[0] and kept[0]))["message"] == "sealed:erased"

    client = console_session(console, "safety-officer-li")
    try:
        for language, placeholder in (("zh-CN", "（内容已删除）"), ("en", "(erased)")):
            page = wait_for(lambda: (p := client.get(f"/console/cases/{report_id}", params={"lang": language})).status_code == 200
                            and placeholder in p.text and p.text)
            assert not found_in(page.encode()), found_in(page.encode())
    finally:
        client.close()
    system.stop()

    # --- a rebuild after the erasure finds only erased text ---------------------------------
    for service in SERVICES:
        rebuilt = system.state / f"{service}-after-erasure.db"
        system.cli("replay", service, "--database-url", f"sqlite:///{rebuilt}")
        assert not found_in(rebuilt.read_bytes())
    with sqlite3.connect(system.state / "intake-after-erasure.db") as db:
        row = db.execute("SELECT description, cause_analysis FROM intake_reports WHERE report_id = ?", (report_id,)).fetchone()
    assert row == ("sealed:erased", "sealed:erased")
