from pydantic import Field

from hazardloop.runtime.settings import CommonSettings


class ConsoleSettings(CommonSettings):
    port: int = Field(8100, validation_alias="HAZARDLOOP_CONSOLE_PORT", description="HTTP port of the console.")
    database_url: str | None = Field(
        None, validation_alias="HAZARDLOOP_CONSOLE_DATABASE_URL", description="Console store; SQLite file when unset."
    )
    public_url: str | None = Field(
        None,
        validation_alias="HAZARDLOOP_CONSOLE_PUBLIC_URL",
        description="Address browsers reach the console at (sign-in redirects; https makes cookies Secure); "
        "http://127.0.0.1:<port> when unset.",
    )
    intake_url: str = Field("http://127.0.0.1:8101", description="Intake's HTTP API, as the console reaches it.")
    verification_url: str = Field("http://127.0.0.1:8102", description="Verification's HTTP API.")
    rewards_url: str = Field("http://127.0.0.1:8103", description="Rewards' HTTP API.")
    notifications_url: str = Field("http://127.0.0.1:8104", description="Notifications' HTTP API.")
    dev_signin: bool = Field(
        False,
        description="Offer a sign-in page listing the demo people, without a password: for the demo only "
        "(`make run` sets it; production must leave it off).",
    )
    session_idle_minutes: int = Field(30, ge=1, le=24 * 60, description="A browser session idle this long must sign in again.")
    service_timeout: float = Field(10.0, gt=0, description="Seconds the console waits for a service before calling it down.")
    audit_check_seconds: float = Field(
        60.0, gt=0, le=3600,
        description="Longest an auditor's check of the log (or a ledger read from it) may run before it reports how far it got; "
        "also how long the dashboard waits for its figures as of a moment to be replayed (the replay goes on).",
    )
    as_of_stores_kept: int = Field(
        12, ge=1, le=1000,
        description="Stores of the dashboard as of past moments kept on disk (in the state folder); the one viewed least recently goes first.",
    )
    subsidiary_names: dict[str, dict[str, str]] = Field(
        {
            "refinery": {"zh-CN": "炼油厂", "en": "Refinery"},
            "mine": {"zh-CN": "矿业公司", "en": "Mine"},
            "steelmill": {"zh-CN": "钢铁公司", "en": "Steel mill"},
        },
        description="What pages call each subsidiary, per language: JSON object of tenant to {\"zh-CN\": ..., \"en\": ...}; "
        "a subsidiary without a name shows as its id.",
    )
    page_size: int = Field(50, ge=10, le=500, description="Rows per page of the console's lists.")

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://127.0.0.1:{self.port}").rstrip("/")

    @property
    def service_urls(self) -> dict[str, str]:
        return {
            "intake": self.intake_url.rstrip("/"),
            "verification": self.verification_url.rstrip("/"),
            "rewards": self.rewards_url.rstrip("/"),
            "notifications": self.notifications_url.rstrip("/"),
        }
