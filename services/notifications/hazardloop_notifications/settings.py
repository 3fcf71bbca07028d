from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from hazardloop.events import Language
from hazardloop.runtime.settings import CommonSettings


class NotificationsSettings(CommonSettings):
    port: int = Field(8104, validation_alias="HAZARDLOOP_NOTIFICATIONS_PORT", description="HTTP port of notifications.")
    database_url: str | None = Field(
        None,
        validation_alias="HAZARDLOOP_NOTIFICATIONS_DATABASE_URL",
        description="Notifications store; SQLite file when unset.",
    )
    default_language: Language = Field(Language.ZH_CN, description="Language of an inbox read without `lang` or `Accept-Language`.")
    smtp_host: str | None = Field(None, description="SMTP server; unset: e-mails wait (pending) until one is configured.")
    smtp_port: int = Field(25, ge=1, le=65535, description="SMTP port.")
    smtp_username: str | None = Field(None, description="SMTP login, if the server wants one.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_tls: bool = Field(False, description="Implicit TLS (port 465).")
    smtp_starttls: bool = Field(False, description="Upgrade with STARTTLS.")
    smtp_from: str = Field("hazardloop <hazardloop@localhost>", description="Sender address of e-mails.")
    smtp_timeout: float = Field(10.0, gt=0, description="Seconds before an SMTP exchange counts as failed.")
    webhook_timeout: float = Field(10.0, gt=0, description="Seconds a webhook endpoint gets to answer.")
    chatbot_secrets: dict[str, SecretStr] = Field(
        {},
        description="Signing secrets of DingTalk / Feishu robots that have signing on: JSON object of `<tenant>/<endpoint>` to secret.",
    )
    delivery_interval: float = Field(2.0, gt=0, description="Seconds between the sender's looks for messages; new ones wake it at once.")
    delivery_batch: int = Field(500, ge=1, le=5000, description="Deliveries a round of the sender takes; a full round is followed by the next at once.")
    delivery_concurrency: int = Field(16, ge=1, le=256, description="Messages sent at once.")
    delivery_max_attempts: int = Field(8, ge=1, le=50, description="Attempts before a message is dead-lettered.")
    delivery_backoff_seconds: float = Field(60.0, gt=0, description="Wait before the first retry; doubles with each attempt.")
    delivery_backoff_max_seconds: float = Field(3600.0, gt=0, description="Longest wait between two attempts.")
    reminder_hours: Annotated[list[int], NoDecode] = Field(
        [24],
        description="Reminder leads (hours before the deadline; comma-separated) for assignments that carry none: "
        "since the casework policy's reminder_hours, each assignment carries its subsidiary's own.",
    )
    digest_time: str = Field("08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="Local time of managers' daily digest.")

    @field_validator("reminder_hours", mode="before")
    @classmethod
    def _split_hours(cls, value: object) -> object:
        if isinstance(value, str):
            return sorted({int(item) for item in value.split(",") if item.strip()}, reverse=True)
        return value

    def webhook_signing_key(self) -> bytes:
        """The key our webhooks' secrets derive from (the key ring's ``webhook`` key)."""
        return self.secret("webhook")

    def chatbot_secret(self, tenant: str, endpoint: str) -> str | None:
        secret = self.chatbot_secrets.get(f"{tenant}/{endpoint}")
        return secret.get_secret_value() if secret else None
