from pydantic import Field

from hazardloop.runtime.settings import CommonSettings


class RewardsSettings(CommonSettings):
    port: int = Field(8103, validation_alias="HAZARDLOOP_REWARDS_PORT", description="HTTP port of rewards.")
    database_url: str | None = Field(
        None, validation_alias="HAZARDLOOP_REWARDS_DATABASE_URL", description="Rewards store; SQLite file when unset."
    )
    signal_interval: float = Field(
        5.0,
        gt=0,
        le=3600,
        validation_alias="HAZARDLOOP_SIGNAL_INTERVAL",
        description="Seconds between looks for fraud signals raised and not yet recorded in the log.",
    )
