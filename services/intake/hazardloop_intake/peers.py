"""The services a reporter's page asks on the reporter's behalf, with the reporter's own
proof (their receipt code, or their token): rewards for a claim, verification for the
dossier. Each keeps enforcing its own rules; a refusal comes back with its reason."""

from __future__ import annotations

import httpx

from hazardloop_intake.thread import Looker


class PeerDown(Exception):
    """The service did not answer, or answered that it cannot now (5xx)."""


class PeerRefused(Exception):
    """The service refused (4xx): its status, its reason and the state it named, if any."""

    def __init__(self, status: int, reason: str, state: str | None = None) -> None:
        super().__init__(f"{status} {reason}")
        self.status, self.reason, self.state = status, reason, state


def _proof(who: Looker) -> dict[str, str]:
    if who.receipt_code is not None:
        return {"Receipt-Code": who.receipt_code}
    return {"Authorization": f"Bearer {who.token}"} if who.token else {}


class Peers:
    def __init__(self, *, rewards_url: str, verification_url: str, timeout: float) -> None:
        self._rewards, self._verification = rewards_url.rstrip("/"), verification_url.rstrip("/")
        self._http = httpx.AsyncClient(timeout=timeout)

    async def close(self) -> None:
        await self._http.aclose()

    async def claim(self, report_id: str, who: Looker) -> str:
        """The voucher code of the reward claimed (the same again for a repeated claim)."""
        answer = await self._call("POST", f"{self._rewards}/rewards/{report_id}/claim", who)
        return answer.json()["voucher_code"]

    async def dossier(self, report_id: str, who: Looker, language: str) -> httpx.Response:
        return await self._call("GET", f"{self._verification}/reports/{report_id}/dossier.html", who, params={"lang": language})

    async def _call(self, method: str, url: str, who: Looker, params: dict[str, str] | None = None) -> httpx.Response:
        try:
            answer = await self._http.request(method, url, headers=_proof(who), params=params)
        except httpx.HTTPError as exc:
            raise PeerDown(url) from exc
        if answer.status_code >= 500:
            raise PeerDown(url)
        if answer.status_code >= 400:
            try:
                body = answer.json()
            except ValueError:
                body = {}
            detail = body.get("detail") if isinstance(body, dict) else None
            raise PeerRefused(answer.status_code, detail if isinstance(detail, str) else answer.reason_phrase, body.get("state"))
        return answer
