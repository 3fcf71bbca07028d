from pydantic import Field

from hazardloop.settings import CommonSettings


class IntakeSettings(CommonSettings):
    port: int = Field(8101, validation_alias="HAZARDLOOP_INTAKE_PORT", description="HTTP port of intake.")
    database_url: str | None = Field(
        None, validation_alias="HAZARDLOOP_INTAKE_DATABASE_URL", description="Intake store; SQLite file when unset."
    )
