"""Reporters filing and a verifier verifying at once, as correct clients do.

Every command carries its idempotency (a filing its Idempotency-Key, a verification its
report's one outcome) and is sent again on a 503 or a lost connection until an answer
says what happened. An answer after a lost one may find the first attempt already
stored: a filing then answers 200 with the same report, a verification 409, and the
client reads the case to learn that its own outcome is there.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
import uuid
from dataclasses import dataclass

import httpx

from hazardloop.web.auth import Role
from tests.e2e.conftest import TENANTS, System
from tests.factories import report_body

RETRY_AFTER = 0.1
"""Seconds between attempts: shorter than the services' Retry-After, to keep the run short."""
PATIENCE = 60.0
"""Seconds a client keeps retrying one command before it counts as unanswered."""
PACE = 0.4
"""Seconds each reporter waits between two reports: tens of reports over a run."""

OUTCOMES = [None, "confirmed_hazard", "not_confirmed", "confirmed_hazard"]
"""What the verifier decides of report n: OUTCOMES[n % 4] (None: left unverified)."""
VERIFICATION = {
    "confirmed_hazard": {"outcome": "confirmed_hazard", "grade": "general"},
    "not_confirmed": {"outcome": "not_confirmed"},
}


@dataclass(frozen=True, slots=True)
class Acknowledged:
    report_id: str
    tenant: str
    reader: dict[str, str]
    """Headers that read it back: the reporter's token, or an anonymous report's receipt code."""
    anonymous: bool


class Unanswered(Exception):
    """A command got no answer within PATIENCE."""


class Load:
    """Reporters filing (anonymous and named, across subsidiaries) and a verifier deciding, in threads."""

    def __init__(self, system: System, *, reporters: int = 3) -> None:
        self.system = system
        self.acknowledged: dict[str, Acknowledged] = {}
        self.verified: dict[str, str] = {}
        self.defects: list[str] = []
        """Anything a correct client must never see: a 5xx other than 503, a valid command refused, no answer."""
        self._lock = threading.Lock()
        self._numbers = itertools.count()
        self._stopping = threading.Event()
        self._to_verify: queue.Queue[tuple[Acknowledged, str] | None] = queue.Queue()
        self._filing = [threading.Thread(target=self._reporter, name=f"reporter-{i}") for i in range(reporters)]
        self._verifying = threading.Thread(target=self._verifier, name="verifier")

    def __enter__(self) -> Load:
        for thread in [*self._filing, self._verifying]:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        """Let each reporter finish the report in hand (retries included), the verifier its queue, then stop."""
        self._stopping.set()
        for thread in self._filing:
            thread.join(timeout=PATIENCE + 10)
        self._to_verify.put(None)
        self._verifying.join(timeout=2 * PATIENCE + 10)
        assert not any(thread.is_alive() for thread in [*self._filing, self._verifying]), "a client never finished"

    def progress(self) -> tuple[int, int]:
        with self._lock:
            return len(self.acknowledged), len(self.verified)

    # --- the people at work -----------------------------------------------------------

    def _reporter(self) -> None:
        with httpx.Client(timeout=10) as http:
            while not self._stopping.is_set():
                n = next(self._numbers)
                try:
                    filed = self._file(http, n)
                except Unanswered as error:
                    self._defect(f"report {n}: {error}")
                else:
                    if filed is not None and (outcome := OUTCOMES[n % len(OUTCOMES)]) is not None:
                        self._to_verify.put((filed, outcome))
                self._stopping.wait(PACE)

    def _verifier(self) -> None:
        with httpx.Client(timeout=10) as http:
            while (work := self._to_verify.get()) is not None:
                try:
                    self._verify(http, *work)
                except Unanswered as error:
                    self._defect(f"verifying {work[0].report_id}: {error}")

    def _file(self, http: httpx.Client, n: int) -> Acknowledged | None:
        tenant, anonymous, user = TENANTS[n % len(TENANTS)], n % 2 == 0, f"emp-{n % 5}"
        token = self.system.headers(user, tenants=[tenant])
        body = report_body(tenant, anonymous=True) if anonymous else report_body(
            tenant, reporter={"employee_number": user, "name": "Li Wei", "phone": "+86 138 0000 0000"}
        )
        headers = token | {"Idempotency-Key": uuid.uuid4().hex}
        answer, _ = self._send(http, "POST", f"{self.system.url('intake')}/reports", json=body, headers=headers)
        if answer.status_code not in (200, 201):  # 200: an attempt whose answer was lost had stored it
            return self._defect(f"filing {n}: {answer.status_code} {answer.text}")
        filed = answer.json()
        reader = {"Receipt-Code": filed["receipt_code"]} if anonymous else token
        acknowledged = Acknowledged(filed["report_id"], tenant, reader, anonymous)
        with self._lock:
            self.acknowledged[acknowledged.report_id] = acknowledged
        return acknowledged

    def _verify(self, http: httpx.Client, report: Acknowledged, outcome: str) -> None:
        verifier = self.system.headers("safety-li", roles=[Role.VERIFIER], tenants=[report.tenant])
        case = f"{self.system.url('verification')}/reports/{report.report_id}"
        # Verification learns of the report from the log, a moment after intake answered.
        seen, _ = self._send(http, "GET", case, headers=verifier, retry_on={404, 425, 503})
        if seen.status_code != 200:
            return self._defect(f"case {report.report_id}: {seen.status_code} {seen.text}")
        answer, uncertain = self._send(http, "POST", f"{case}/verification", json=VERIFICATION[outcome], headers=verifier)
        if answer.status_code == 409 and uncertain:  # an attempt whose answer was lost may have verified it
            found = self._outcome(http, case, verifier)
            if found != outcome:
                return self._defect(f"verifying {report.report_id}: 409, and the case reads {found!r}")
        elif answer.status_code != 201:
            return self._defect(f"verifying {report.report_id}: {answer.status_code} {answer.text}")
        with self._lock:
            self.verified[report.report_id] = outcome

    def _outcome(self, http: httpx.Client, case: str, verifier: dict[str, str]) -> str | None:
        """The case's outcome once its read model shows one (it follows the log a moment later)."""
        deadline = time.monotonic() + PATIENCE
        while True:
            answer, _ = self._send(http, "GET", case, headers=verifier)
            if answer.status_code != 200 or answer.json()["outcome"] is not None or time.monotonic() > deadline:
                return answer.json().get("outcome") if answer.status_code == 200 else answer.text
            time.sleep(RETRY_AFTER)

    # --- the retrying client ----------------------------------------------------------

    def _send(
        self, http: httpx.Client, method: str, url: str, *, retry_on: set[int] = frozenset({503}), **kwargs
    ) -> tuple[httpx.Response, bool]:
        """The first answer not in ``retry_on``, and whether an earlier attempt may have been applied."""
        deadline, uncertain = time.monotonic() + PATIENCE, False
        while True:
            try:
                answer = http.request(method, url, **kwargs)
                if answer.status_code not in retry_on:
                    return answer, uncertain
                uncertain |= answer.status_code == 503
            except httpx.TransportError:  # refused while a service restarts, or cut by a kill
                uncertain = True
            if time.monotonic() > deadline:
                raise Unanswered(f"{method} {url}: no answer within {PATIENCE}s")
            time.sleep(RETRY_AFTER)

    def _defect(self, what: str) -> None:
        with self._lock:
            self.defects.append(what)
