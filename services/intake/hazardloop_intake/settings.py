from pydantic import Field

from hazardloop.attachments import AttachmentLimits
from hazardloop.settings import CommonSettings


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
        return self.public_url or f"http://127.0.0.1:{self.port}"

    @property
    def attachment_limits(self) -> AttachmentLimits:
        return AttachmentLimits(
            max_image_bytes=self.max_image_bytes,
            max_video_bytes=self.max_video_bytes,
            max_count_per_report=self.max_attachments,
        )
