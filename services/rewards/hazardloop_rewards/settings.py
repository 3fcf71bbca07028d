from pydantic import Field

from hazardloop.settings import CommonSettings
from hazardloop_rewards.domain import GradeTable


class RewardsSettings(CommonSettings):
    port: int = Field(8103, validation_alias="HAZARDLOOP_REWARDS_PORT", description="HTTP port of rewards.")
    database_url: str | None = Field(
        None, validation_alias="HAZARDLOOP_REWARDS_DATABASE_URL", description="Rewards store; SQLite file when unset."
    )
    grade_table: GradeTable = Field(
        default_factory=GradeTable,
        validation_alias="HAZARDLOOP_REWARDS_GRADE_TABLE",
        description="Reward in fen per grade, as JSON.",
    )
