"""The four services as the console calls them: with the signed-in person's own token.

Each service keeps enforcing its own rules; the console only translates what it says
into something a person can read: a refusal carries the service's reason, an outage
names the service, and neither ever becomes a stack trace.
"""

from __future__ import annotations

from typing import Any

import httpx

SERVICES = ("intake", "verification", "rewards", "notifications")


class ServiceDown(Exception):
    """The service did not answer, or answered that it cannot now (5xx)."""

    def __init__(self, service: str) -> None:
        super().__init__(service)
        self.service = service


class Refused(Exception):
    """The service refused the request (4xx): ``reason`` is its own explanation."""

    def __init__(self, service: str, status: int, reason: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(f"{service}: {status} {reason}")
        self.service, self.status, self.reason = service, status, reason
        self.fields = fields or {}
        """Field name to message, when the service named the fields at fault."""


def _reason(response: httpx.Response) -> tuple[str, dict[str, str]]:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return response.reason_phrase, {}
    if isinstance(detail, list):
        fields = {}
        for item in detail:
            if isinstance(item, dict):
                where = [str(part) for part in item.get("loc", []) if part not in ("body", "query", "path")]
                fields[".".join(where) or "-"] = str(item.get("msg", ""))
        return "; ".join(v if k == "-" else f"{k}: {v}" for k, v in fields.items()), fields
    return str(detail or response.reason_phrase), {}


class Backends:
    def __init__(self, urls: dict[str, str], timeout: float) -> None:
        self._urls = urls
        self._http = httpx.AsyncClient(timeout=timeout)

    async def close(self) -> None:
        await self._http.aclose()

    async def call(
        self, token: str, service: str, method: str, path: str, *, params: dict[str, Any] | None = None,
        json: Any = None, content: bytes | None = None, language: str | None = None,
    ) -> httpx.Response:
        """The service's answer to a request made as the person holding ``token`` (its refusals in ``language``)."""
        headers = {"Authorization": f"Bearer {token}"} | ({"Accept-Language": language} if language else {})
        try:
            response = await self._http.request(
                method, f"{self._urls[service]}{path}", params=params, json=json, content=content, headers=headers,
            )
        except httpx.HTTPError as exc:
            raise ServiceDown(service) from exc
        if response.status_code >= 500:
            raise ServiceDown(service)
        if response.status_code >= 400:
            reason, fields = _reason(response)
            raise Refused(service, response.status_code, reason, fields)
        return response

    async def read(self, token: str, service: str, path: str, **params: Any) -> Any:
        return (await self.call(token, service, "GET", path, params=params or None)).json()

    async def send(self, token: str, service: str, path: str, body: Any, method: str = "POST") -> Any:
        response = await self.call(token, service, method, path, json=body)
        return response.json() if response.content else None
