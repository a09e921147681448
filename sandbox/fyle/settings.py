"""The simulator's tunable behaviour, changed through `PUT /_sandbox/fyle/settings` (tests shorten waits)."""

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat

from sandbox.fyle.constants import (
    ACCESS_TOKEN_TTL_SECONDS,
    AUTHORIZATION_CODE_TTL_SECONDS,
    WEBHOOK_RETRY_DELAYS_SECONDS,
    WEBHOOK_TIMEOUT_SECONDS,
)


class FyleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    access_token_ttl_seconds: int = Field(default=ACCESS_TOKEN_TTL_SECONDS, ge=1)
    authorization_code_ttl_seconds: int = Field(default=AUTHORIZATION_CODE_TTL_SECONDS, ge=1)
    webhook_retry_delays_seconds: list[NonNegativeFloat] = Field(
        default_factory=lambda: list(WEBHOOK_RETRY_DELAYS_SECONDS),
        max_length=10,
        description="Waits before each retry of a failed delivery; its length is the number of retries.",
    )
    webhook_timeout_seconds: float = Field(default=WEBHOOK_TIMEOUT_SECONDS, gt=0, le=60)


class FyleSettingsUpdate(BaseModel):
    """A partial update: only the keys sent change."""

    model_config = ConfigDict(extra="forbid")

    access_token_ttl_seconds: int | None = Field(default=None, ge=1)
    authorization_code_ttl_seconds: int | None = Field(default=None, ge=1)
    webhook_retry_delays_seconds: list[NonNegativeFloat] | None = Field(default=None, max_length=10)
    webhook_timeout_seconds: float | None = Field(default=None, gt=0, le=60)
