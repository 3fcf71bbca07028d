from pydantic import Field

from hazardloop.runtime.settings import CommonSettings


class RewardsSettings(CommonSettings):
    port: int = Field(8103, validation_alias="HAZARDLOOP_REWARDS_PORT", description="HTTP port of rewards.")
    database_url: str | None = Field(
        None, validation_alias="HAZARDLOOP_REWARDS_DATABASE_URL", description="Rewards store; SQLite file when unset."
    )
