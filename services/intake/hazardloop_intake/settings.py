from pydantic import Field, SecretStr

from hazardloop.media.attachments import AttachmentLimits
from hazardloop.runtime.settings import CommonSettings


class IntakeSettings(CommonSettings):
    port: int = Field(8101, validation_alias="HAZARDLOOP_INTAKE_PORT", description="HTTP port of intake.")
    database_url: str | None = Field(
        None, validation_alias="HAZARDLOOP_INTAKE_DATABASE_URL", description="Intake store; SQLite file when unset."
    )
    public_url: str | None = Field(
        None,
        validation_alias="HAZARDLOOP_INTAKE_PUBLIC_URL",
        description="Address phones reach intake at (QR codes link to its report forms); "
        "http://127.0.0.1:<port> when unset.",
    )
    duplicate_window_hours: float = Field(
        72, gt=0, description="A report on the same spot or equipment and category as an open one filed "
        "within this many hours is flagged as a possible duplicate."
    )
    retention_years: int | None = Field(
        None, ge=1, le=100,
        description="Years after a report closed that its free text is erased (its text key destroyed); unset: kept.",
    )
    retention_interval: float = Field(3600.0, gt=0, description="Seconds between looks for reports past the retention period.")
    form_oidc_client_id: str | None = Field(
        None,
        validation_alias="HAZARDLOOP_INTAKE_OIDC_CLIENT_ID",
        description="The report form's client at the group identity provider (`HAZARDLOOP_OIDC_ISSUER`): "
        "reporters sign in with it to report in their own name.",
    )
    form_oidc_client_secret: SecretStr | None = Field(
        None, validation_alias="HAZARDLOOP_INTAKE_OIDC_CLIENT_SECRET",
        description="The report form's client secret; unset: a public client (PKCE only).",
    )
    form_oidc_scopes: str = Field(
        "openid profile", validation_alias="HAZARDLOOP_INTAKE_OIDC_SCOPES", description="Scopes the report form asks for at sign-in."
    )
    dev_signin: bool = Field(
        False,
        description="Offer the demo's reporters a sign-in without a password on the report form: for the demo only "
        "(`make run` sets it; production must leave it off).",
    )
    reporter_idle_minutes: int = Field(
        30, ge=1, le=24 * 60, validation_alias="HAZARDLOOP_INTAKE_SESSION_IDLE_MINUTES",
        description="A reporter signed in on the form and idle this long must sign in again.",
    )
    max_attachments: int = Field(6, ge=0, le=12, description="Photos and videos per report.")
    max_image_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="Largest photo accepted.")
    max_video_bytes: int = Field(50 * 1024 * 1024, ge=1024, description="Largest video accepted.")

    verification_url: str = Field("http://127.0.0.1:8102", description="Verification's HTTP API (reporters' dossiers).")
    rewards_url: str = Field("http://127.0.0.1:8103", description="Rewards' HTTP API (anonymous reporters' claims).")
    service_timeout: float = Field(5.0, gt=0, le=60, description="Seconds verification or rewards get to answer a reporter's page.")
    receipt_session_idle_minutes: int = Field(
        15, ge=1, le=240, description="Minutes an anonymous reporter's page stays open without use before the code is asked again."
    )
    wrong_codes_per_address: int = Field(10, ge=1, description="Wrong receipt codes one address may try per window before a 429.")
    wrong_codes_overall: int = Field(200, ge=1, description="Wrong receipt codes all addresses together may try per window.")
    wrong_code_window_seconds: int = Field(900, ge=1, description="The window the wrong receipt codes are counted over.")

    @property
    def form_base_url(self) -> str:
        return (self.public_url or f"http://127.0.0.1:{self.port}").rstrip("/")

    @property
    def attachment_limits(self) -> AttachmentLimits:
        return AttachmentLimits(
            max_image_bytes=self.max_image_bytes,
            max_video_bytes=self.max_video_bytes,
            max_count_per_report=self.max_attachments,
        )
