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
    retention_years: int | None = Field(
        None, ge=1, le=100,
        description="Years after a report closed that its free text is erased (its text key destroyed); unset: kept.",
    )
    retention_interval: float = Field(3600.0, gt=0, description="Seconds between looks for reports past the retention period.")
    max_attachments: int = Field(6, ge=0, le=12, description="Photos and videos per report.")
    max_image_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="Largest photo accepted.")
    max_video_bytes: int = Field(50 * 1024 * 1024, ge=1024, description="Largest video accepted.")

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
