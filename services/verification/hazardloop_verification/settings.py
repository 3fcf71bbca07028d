from pydantic import Field

from hazardloop.runtime.settings import CommonSettings


class VerificationSettings(CommonSettings):
    port: int = Field(8102, validation_alias="HAZARDLOOP_VERIFICATION_PORT", description="HTTP port of verification.")
    database_url: str | None = Field(
        None,
        validation_alias="HAZARDLOOP_VERIFICATION_DATABASE_URL",
        description="Verification store; SQLite file when unset.",
    )
    timer_interval: float = Field(
        5.0,
        gt=0,
        le=3600,
        validation_alias="HAZARDLOOP_TIMER_INTERVAL",
        description="Seconds between looks for due deadlines and SLA clocks.",
    )
