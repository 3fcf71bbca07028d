"""Settings shared by every service, read from the environment (``HAZARDLOOP_*``).

Nothing reads the environment at import time: a composition root builds a Settings
object and passes it down.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path
from typing import Annotated

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_NATS_PORT = 4333
"""Embedded broker port: not 4222, so it never collides with a system NATS."""


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HAZARDLOOP_", populate_by_name=True, extra="ignore")

    state_dir: Path = Field(Path(".hazardloop"), description="Local state: embedded broker data, SQLite stores, dev secrets.")
    nats_url: str = Field(
        f"nats://127.0.0.1:{DEFAULT_NATS_PORT}",
        validation_alias=AliasChoices("NATS_URL", "HAZARDLOOP_NATS_URL"),
        description="Broker to use. `NATS_URL` set means: use that broker and start none.",
    )
    nats_timeout: float = Field(2.0, gt=0, description="Seconds before a broker call counts as unavailable (503).")
    append_settle_seconds: float = Field(
        10.0, ge=0, description="Seconds an append the broker has not answered keeps asking it for the outcome before a 503."
    )
    stream_name: str = Field("HAZARDLOOP", description="The JetStream stream holding the event log.")
    stream_replicas: int = Field(1, ge=1, le=5, description="Stream replicas: 1 embedded, 3 on a cluster.")
    subject_prefix: str = Field("hazard", pattern=r"^[a-z][a-z0-9_-]*$", description="First token of every subject.")
    tenants: Annotated[list[str], NoDecode] = Field(
        ["refinery", "mine", "steelmill"],
        description="Subsidiaries (tenants) known to the group; comma-separated in the environment.",
    )
    jwt_secret: SecretStr | None = Field(
        None, description="HS256 key for bearer tokens; generated into the state folder when unset."
    )
    pseudonym_key: SecretStr | None = Field(
        None, description="Key for reporter pseudonyms (HMAC); generated into the state folder when unset."
    )
    receipt_key: SecretStr | None = Field(
        None, description="Key deriving anonymous reporters' receipt codes (HMAC); generated when unset."
    )
    master_keys: dict[str, SecretStr] = Field(
        {},
        description="Per-subsidiary master keys wrapping reporters' data keys: JSON object of tenant to "
        "base64 32-byte key; a dev key is generated into the state folder for a tenant not listed.",
    )
    timezone: str = Field(
        "Asia/Shanghai",
        description="The group's local time: times typed into the report form, budget years, payroll months, digests.",
    )
    retry_after_seconds: int = Field(2, ge=1, description="Retry-After sent with a 503 when the broker is down.")
    max_body_bytes: int = Field(64 * 1024, ge=1024, description="Largest accepted request body.")
    batch_size: int = Field(500, ge=1, le=10_000, description="Events per projection commit.")
    rebuild_batch_size: int = Field(
        5000, ge=1, le=50_000, description="Events per commit while a projection is rebuilt from the log."
    )
    log_level: str = Field("INFO", description="Log level of the services.")

    @field_validator("tenants", mode="before")
    @classmethod
    def _split_tenants(cls, value: object) -> object:
        if isinstance(value, str) and not value.lstrip().startswith("["):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @property
    def nats_servers(self) -> list[str]:
        """``NATS_URL`` may list a cluster's nodes, comma-separated."""
        return [url.strip() for url in self.nats_url.split(",") if url.strip()]

    def secret(self, name: str) -> bytes:
        """A dev secret from settings, else read or created once under the state folder."""
        configured = {"jwt": self.jwt_secret, "pseudonym": self.pseudonym_key, "receipt": self.receipt_key}.get(name)
        if configured is not None:
            return configured.get_secret_value().encode()
        return load_or_create_secret(self.state_dir / "secrets" / f"{name}.key")

    def bucket(self, purpose: str) -> str:
        """A key-value or object bucket named after the stream, so each event log has its own."""
        return f"{self.stream_name}-{purpose}"

    def master_key(self, tenant: str) -> bytes:
        """The 32-byte key that wraps the data keys of ``tenant``'s reporters."""
        configured = self.master_keys.get(tenant)
        if configured is not None:
            key = base64.b64decode(configured.get_secret_value(), validate=True)
            if len(key) != 32:
                raise ValueError(f"the master key of {tenant!r} must be 32 bytes, base64-encoded")
            return key
        seed = load_or_create_secret(self.state_dir / "secrets" / f"master-{tenant}.key")
        return HKDF(algorithm=SHA256(), length=32, salt=None, info=f"hazardloop master key {tenant}".encode()).derive(seed)

    def database_url_for(self, service: str, configured: str | None) -> str:
        return configured or f"sqlite:///{(self.state_dir / f'{service}.db').resolve()}"


def load_or_create_secret(path: Path) -> bytes:
    """Create a random key atomically on first use; every process then reads the same one."""
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    candidate = path.with_name(f".{path.name}.{os.getpid()}")
    candidate.write_text(secrets.token_urlsafe(48))
    candidate.chmod(0o600)
    try:
        os.link(candidate, path)  # fails if another process won the race: use theirs
    except FileExistsError:
        pass
    finally:
        candidate.unlink()
    return path.read_bytes().strip()
