from pydantic import Field

from hazardloop.settings import CommonSettings


class NotificationsSettings(CommonSettings):
    port: int = Field(8104, validation_alias="HAZARDLOOP_NOTIFICATIONS_PORT", description="HTTP port of notifications.")
    database_url: str | None = Field(
        None,
        validation_alias="HAZARDLOOP_NOTIFICATIONS_DATABASE_URL",
        description="Notifications store; SQLite file when unset.",
    )
