"""E-mail over SMTP (aiosmtplib). The Message-ID is derived from the delivery's key, so a
message resent after a crash is recognisably the same one to mail servers and clients."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from hazardloop_notifications.render import Rendered
from hazardloop_notifications.settings import NotificationsSettings


def message_id(key: str) -> str:
    return f"<{key}@hazardloop.notifications>"


def compose(settings: NotificationsSettings, *, to: str, rendered: Rendered, key: str, language: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id(key)
    message["Content-Language"] = language
    message["Auto-Submitted"] = "auto-generated"  # no out-of-office replies to a robot
    message["X-Hazardloop-Delivery"] = key
    message.set_content(rendered.body, charset="utf-8")
    return message


async def send(settings: NotificationsSettings, message: EmailMessage) -> None:
    """Hand the message to the SMTP server; raises when it is unreachable or refuses it."""
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=password,
        use_tls=settings.smtp_tls,
        start_tls=settings.smtp_starttls,
        timeout=settings.smtp_timeout,
    )
