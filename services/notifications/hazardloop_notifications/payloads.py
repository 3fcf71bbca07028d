"""What goes over the wire to an endpoint: our signed webhook, or a group chat robot's format.

Our webhook is JSON signed with HMAC-SHA256 over ``<timestamp>.<body>``; the receiver
checks the signature and the timestamp's age, and drops a repeated ``Idempotency-Key``
(a message can arrive twice if the service dies between sending and recording it).
WeCom, DingTalk and Feishu robots get their own markdown / post payloads, signed the
way each documents when the robot has signing switched on.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

from hazardloop.events import EndpointFormat
from hazardloop_notifications.render import Rendered

SIGNATURE_HEADER = "X-Hazardloop-Signature"
TIMESTAMP_HEADER = "X-Hazardloop-Timestamp"
DELIVERY_HEADER = "X-Hazardloop-Delivery"
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True, slots=True)
class Request:
    url: str
    headers: dict[str, str]
    body: bytes


def endpoint_secret(key: bytes, tenant: str, endpoint: str) -> str:
    """The signing secret of one of our webhooks: derived, so it never enters the log."""
    return hmac.new(key, f"webhook:{tenant}/{endpoint}".encode(), hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, now: float, tolerance: float = 300) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent (no replays)."""
    try:
        fresh = abs(now - int(timestamp)) <= tolerance
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.encode())  # any character: just wrong


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def build(
    delivery: dict[str, Any], rendered: Rendered, *, now: float, webhook_secret: str, chatbot_secret: str | None
) -> Request:
    """The HTTP request for one delivery to an endpoint (``now``: Unix seconds)."""
    key = delivery["key"]
    headers = {"Content-Type": "application/json; charset=utf-8", IDEMPOTENCY_HEADER: key, DELIVERY_HEADER: key}
    fmt = EndpointFormat(delivery["format"])
    url = delivery["address"]
    if fmt == EndpointFormat.WEBHOOK:
        body = _json(
            {
                "id": key,
                "kind": delivery["kind"],
                "tenant": delivery["tenant"],
                "report_id": delivery["report_id"],
                "language": delivery["language"],
                "subject": rendered.subject,
                "text": rendered.body,
                "params": json.loads(delivery["params"]),
                "created_at": delivery["created_at"].isoformat(),
            }
        )
        timestamp = str(int(now))
        headers |= {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(webhook_secret, timestamp, body)}
        return Request(url, headers, body)
    if fmt == EndpointFormat.WECOM:
        return Request(url, headers, _json(wecom(rendered)))
    if fmt == EndpointFormat.DINGTALK:
        return Request(dingtalk_url(url, chatbot_secret, now) if chatbot_secret else url, headers, _json(dingtalk(rendered)))
    return Request(url, headers, _json(feishu(rendered, delivery["language"], chatbot_secret, now)))


def wecom(rendered: Rendered) -> dict[str, Any]:
    """WeCom group robot: markdown (``msgtype: markdown``)."""
    return {"msgtype": "markdown", "markdown": {"content": f"**{rendered.subject}**\n{rendered.body}"}}


def dingtalk(rendered: Rendered) -> dict[str, Any]:
    """DingTalk custom robot: markdown with a title for the notification preview."""
    return {"msgtype": "markdown", "markdown": {"title": rendered.subject, "text": f"#### {rendered.subject}\n\n{rendered.body}"}}


def dingtalk_url(url: str, secret: str, now: float) -> str:
    """DingTalk's signing: ``timestamp`` (ms) and ``sign`` = base64(HMAC-SHA256(secret, "ts\\nsecret")) in the query."""
    timestamp = str(int(now * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign_value = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign_value}"


def feishu(rendered: Rendered, language: str, secret: str | None, now: float) -> dict[str, Any]:
    """Feishu / Lark custom bot: a rich-text post; signed with ``timestamp`` and ``sign`` in the body."""
    locale = "zh_cn" if language.startswith("zh") else "en_us"
    lines = [[{"tag": "text", "text": line}] for line in rendered.body.splitlines() if line.strip()]
    document: dict[str, Any] = {"msg_type": "post", "content": {"post": {locale: {"title": rendered.subject, "content": lines}}}}
    if secret:
        timestamp = str(int(now))
        # Feishu's scheme: the key is "timestamp\nsecret" and the message is empty.
        digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
        document |= {"timestamp": timestamp, "sign": base64.b64encode(digest).decode()}
    return document


def accepted(fmt: str, status: int, body: bytes) -> str | None:
    """None if the endpoint took the message, else why not.

    Chat robots answer 200 with an error code in the body (a wrong key, a rate limit),
    so for them a 2xx alone is not enough.
    """
    if not 200 <= status < 300:
        return f"HTTP {status}: {body[:200].decode(errors='replace')}"
    if fmt == EndpointFormat.WEBHOOK:
        return None
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        return f"unreadable answer: {body[:200].decode(errors='replace')}"
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0))) if isinstance(answer, dict) else 0
    if code not in (0, None):
        return f"robot error {code}: {answer.get('errmsg') or answer.get('msg') or answer.get('StatusMessage')}"
    return None
