"""Real local receivers for notifications' tests: an SMTP server (aiosmtpd) and an HTTP webhook receiver."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from hazardloop.log.natsserver import free_port


class MailReceiver:
    """An SMTP server on a free loopback port that keeps every message it accepts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 OK"

    def received(self) -> list[EmailMessage]:
        with self._lock:
            return list(self.messages)

    def __enter__(self) -> MailReceiver:
        self._controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._controller.stop()


@dataclass(frozen=True)
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes


Answer = Callable[[Hit], tuple[int, bytes]]


class WebhookReceiver:
    """An HTTP server on a free loopback port that records every POST and answers per path.

    ``answers[path]`` decides the reply (default 200 ``{}``); ``hold`` makes a path wait
    until released, for an endpoint that answers too slowly.
    """

    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self.answers: dict[str, Answer] = {}
        self.release = threading.Event()
        self.held: set[str] = set()
        lock, receiver = threading.Lock(), self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                path = self.path.split("?")[0]
                hit = Hit(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with lock:
                    receiver.hits.append(hit)
                if path in receiver.held:
                    receiver.release.wait(30)
                status, reply = receiver.answers.get(path, lambda _: (200, b"{}"))(hit)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:
                    pass  # the sender gave up waiting: that is the point of a held path

            def log_message(self, *_: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self._server.daemon_threads = True
        self._lock = lock
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def posted(self, path: str) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.path.split("?")[0] == path]

    def __enter__(self) -> WebhookReceiver:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
