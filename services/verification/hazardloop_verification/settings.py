from pydantic import Field

from hazardloop.settings import CommonSettings


class VerificationSettings(CommonSettings):
    port: int = Field(8102, validation_alias="HAZARDLOOP_VERIFICATION_PORT", description="HTTP port of verification.")
    database_url: str | None = Field(
        None,
        validation_alias="HAZARDLOOP_VERIFICATION_DATABASE_URL",
        description="Verification store; SQLite file when unset.",
    )
