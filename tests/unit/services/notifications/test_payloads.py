"""Webhook signing and the group chat robots' payloads."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from datetime import UTC, datetime

from hazardloop_notifications import payloads
from hazardloop_notifications.render import Rendered

RENDERED = Rendered("整改提醒：North", "第一行\n第二行")
NOW = 1_790_000_000.0


def delivery(fmt: str, url: str = "https://hooks.example/x?key=k") -> dict:
    return {
        "key": "6b3c1e1e-2f9a-5b8e-9d3c-0a1b2c3d4e5f", "kind": "deadline_reminder", "tenant": "refinery", "report_id": "r-1",
        "language": "zh-CN", "params": json.dumps({"place": "North"}), "created_at": datetime(2026, 11, 3, tzinfo=UTC),
        "address": url, "format": fmt,
    }


def test_our_webhook_is_signed_over_timestamp_and_body_and_carries_its_idempotency_key():
    secret = payloads.endpoint_secret(b"service-key", "refinery", "ops")
    request = payloads.build(delivery("webhook"), RENDERED, now=NOW, webhook_secret=secret, chatbot_secret=None)
    body = json.loads(request.body)
    assert body["id"] == request.headers["Idempotency-Key"] == delivery("webhook")["key"]
    assert body["subject"] == RENDERED.subject and body["params"] == {"place": "North"}
    timestamp, signature = request.headers["X-Hazardloop-Timestamp"], request.headers["X-Hazardloop-Signature"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
    assert signature == f"sha256={expected}" and timestamp == str(int(NOW))
    assert payloads.verify(secret, timestamp, request.body, signature, now=NOW + 10)
    assert not payloads.verify(secret, timestamp, request.body + b" ", signature, now=NOW)  # tampered
    assert not payloads.verify(secret, timestamp, request.body, signature, now=NOW + 3600)  # replayed late
    assert not payloads.verify("other", timestamp, request.body, signature, now=NOW)
    assert not payloads.verify(secret, timestamp, request.body, "sha256=签名", now=NOW)  # forged, any characters


def test_each_endpoint_has_its_own_secret():
    assert payloads.endpoint_secret(b"k", "refinery", "a") != payloads.endpoint_secret(b"k", "refinery", "b")
    assert payloads.endpoint_secret(b"k", "refinery", "a") != payloads.endpoint_secret(b"k", "mine", "a")


def test_wecom_gets_markdown():
    request = payloads.build(delivery("wecom"), RENDERED, now=NOW, webhook_secret="s", chatbot_secret=None)
    assert json.loads(request.body) == {"msgtype": "markdown", "markdown": {"content": "**整改提醒：North**\n第一行\n第二行"}}
    assert request.url == "https://hooks.example/x?key=k"


def test_dingtalk_gets_markdown_and_a_signed_url_when_signing_is_on():
    plain = payloads.build(delivery("dingtalk"), RENDERED, now=NOW, webhook_secret="s", chatbot_secret=None)
    assert json.loads(plain.body)["msgtype"] == "markdown" and plain.url == "https://hooks.example/x?key=k"
    signed = payloads.build(delivery("dingtalk"), RENDERED, now=NOW, webhook_secret="s", chatbot_secret="SECabc")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(signed.url).query)
    timestamp = query["timestamp"][0]
    assert timestamp == str(int(NOW * 1000))
    expected = base64.b64encode(hmac.new(b"SECabc", f"{timestamp}\nSECabc".encode(), hashlib.sha256).digest()).decode()
    assert query["sign"][0] == expected


def test_feishu_gets_a_post_in_the_recipients_language_signed_in_the_body():
    body = json.loads(payloads.build(delivery("feishu"), RENDERED, now=NOW, webhook_secret="s", chatbot_secret="fs").body)
    post = body["content"]["post"]["zh_cn"]
    assert body["msg_type"] == "post" and post["title"] == RENDERED.subject
    assert post["content"] == [[{"tag": "text", "text": "第一行"}], [{"tag": "text", "text": "第二行"}]]
    expected = base64.b64encode(hmac.new(f"{body['timestamp']}\nfs".encode(), b"", hashlib.sha256).digest()).decode()
    assert body["sign"] == expected


def test_robots_that_answer_200_with_an_error_code_did_not_take_the_message():
    assert payloads.accepted("webhook", 204, b"") is None
    assert payloads.accepted("wecom", 200, b'{"errcode":0,"errmsg":"ok"}') is None
    assert payloads.accepted("feishu", 200, b'{"code":0,"msg":"success"}') is None
    assert "93000" in payloads.accepted("wecom", 200, b'{"errcode":93000,"errmsg":"invalid webhook url"}')
    assert "19021" in payloads.accepted("feishu", 200, b'{"code":19021,"msg":"sign match fail"}')
    assert payloads.accepted("webhook", 500, b"boom").startswith("HTTP 500")
