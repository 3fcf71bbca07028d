"""Settings shared by every service, read from the environment (``HAZARDLOOP_*``).

Nothing reads the environment at import time: a composition root builds a Settings
object and passes it down.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)

from hazardloop.log.placement import Topology, parse_placement
from hazardloop.privacy.keyring import KeyRing

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
    site: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_-]+$",
        description="This site's name, the JetStream domain of its nats-server leaf node; unset: one cluster holds every subsidiary.",
    )
    placement: Annotated[dict[str, str], NoDecode] = Field(
        {}, description="Subsidiaries whose log is at another site: tenant=domain, comma-separated. At the hub: every subsidiary.",
    )
    site_stream_name: str = Field("HAZARDLOOP", description="The name of each site's stream, into which remote decisions are appended.")
    subject_prefix: str = Field("hazard", pattern=r"^[a-z][a-z0-9_-]*$", description="First token of every subject.")
    tenants: Annotated[list[str], NoDecode] = Field(
        ["refinery", "mine", "steelmill"],
        description="Subsidiaries (tenants) known to the group; comma-separated in the environment.",
    )
    env: Literal["development", "production"] = Field(
        "development",
        description="`production`: a service refuses to start without every key it needs; "
        "`development`: missing keys are generated once into the state folder.",
    )
    jwt_secret: SecretStr | None = Field(
        None, description="HS256 key for bearer tokens; rotatable (versions comma-separated, newest first)."
    )
    pseudonym_key: SecretStr | None = Field(None, description="Key of the pseudonym directory's lookup keys (HMAC of subsidiary and person); one version, for good.")
    receipt_key: SecretStr | None = Field(
        None, description="Key deriving anonymous reporters' receipt and voucher codes (HMAC); rotatable."
    )
    form_key: SecretStr | None = Field(None, description="Key signing the QR form links (HMAC); rotatable.")
    webhook_key: SecretStr | None = Field(
        None, description="Key deriving each webhook endpoint's signing secret (HMAC); one version."
    )
    master_keys: dict[str, SecretStr] = Field(
        {},
        description="Per-subsidiary master keys wrapping reporters' data keys: JSON object of tenant to "
        "base64 32-byte keys, comma-separated, newest first.",
    )
    oidc_issuer: str | None = Field(
        None,
        pattern=r"^https?://[^\s]+$",
        description="The group identity provider's issuer URL. Set: the services also accept its access tokens.",
    )
    oidc_audience: str = Field("hazardloop-api", min_length=1, description="The audience the provider's access tokens carry.")
    oidc_tenants_claim: str = Field("tenants", min_length=1, description="The claim listing the subsidiaries a person acts in.")
    oidc_roles_claim: str = Field("roles", min_length=1, description="The claim listing a person's roles.")
    oidc_jwks_url: str | None = Field(
        None, pattern=r"^https?://[^\s]+$", description="The provider's keys; unset: found through its discovery document."
    )
    oidc_timeout: float = Field(3.0, gt=0, le=30, description="Seconds the provider gets to hand over its keys.")
    oidc_jwks_cooldown_seconds: float = Field(
        30.0, ge=0, description="Least time between two fetches of the provider's keys (a token naming an unknown key asks again)."
    )
    oidc_client_id: str | None = Field(None, description="The console's client at the provider.")
    oidc_client_secret: SecretStr | None = Field(None, description="The console's client secret.")
    oidc_scopes: str = Field("openid profile", description="Scopes the console asks for at sign-in.")
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
    log_format: Literal["json", "console"] = Field(
        "json",
        description="`json`: one JSON object a line, for a log collector; `console`: plain lines for a person "
        "(`hazardloop run` uses it for the logs it writes under the state folder).",
    )
    seal_every_minutes: int = Field(
        15, ge=0, description="Seal the log when its last seal is this old and events wait (notifications seals; 0: no time trigger)."
    )
    seal_every_events: int = Field(
        10_000, ge=0, description="Seal the log once this many events wait, seals not counted (0: no count trigger)."
    )
    http_workers: int = Field(
        1, ge=1, le=32,
        description="HTTP worker processes `hazardloop serve` runs on the service's port (SO_REUSEPORT); "
        "the first also runs the projection and background rounds.",
    )
    run_projection: bool = Field(
        True, description="Whether this process runs the projection and background rounds (`serve` sets it false in its extra HTTP workers)."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Settings, keys above all, may also be files named like their variable in
        ``HAZARDLOOP_SECRETS_DIR`` (a mounted Kubernetes or Docker secret)."""
        folder = os.environ.get("HAZARDLOOP_SECRETS_DIR")
        files = SecretsSettingsSource(settings_cls, secrets_dir=folder) if folder else file_secret_settings
        return init_settings, env_settings, dotenv_settings, files

    @field_validator("tenants", mode="before")
    @classmethod
    def _split_tenants(cls, value: object) -> object:
        if isinstance(value, str) and not value.lstrip().startswith("["):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("placement", mode="before")
    @classmethod
    def _parse_placement(cls, value: object) -> object:
        if isinstance(value, str) and not value.lstrip().startswith("{"):
            return parse_placement(value)
        return value

    @property
    def topology(self) -> Topology:
        """Where each subsidiary's log lives (``hazardloop.log.placement``)."""
        return Topology(tuple(self.tenants), self.site, self.placement, self.site_stream_name)

    @property
    def nats_servers(self) -> list[str]:
        """``NATS_URL`` may list a cluster's nodes, comma-separated."""
        return [url.strip() for url in self.nats_url.split(",") if url.strip()]

    @cached_property
    def keys(self) -> KeyRing:
        """Every key of these settings; each resolved on first use, then kept."""
        configured = {
            "jwt": self.jwt_secret, "pseudonym": self.pseudonym_key, "receipt": self.receipt_key,
            "form": self.form_key, "webhook": self.webhook_key,
        }
        return KeyRing(configured, self.master_keys, state_dir=self.state_dir, production=self.env == "production")

    def secret(self, name: str) -> bytes:
        """The newest version of a key of the key ring."""
        return self.keys.key(name)

    def bucket(self, purpose: str) -> str:
        """A key-value or object bucket named after the stream, so each event log has its own."""
        return f"{self.stream_name}-{purpose}"

    def database_url_for(self, service: str, configured: str | None) -> str:
        return configured or f"sqlite:///{(self.state_dir / f'{service}.db').resolve()}"

