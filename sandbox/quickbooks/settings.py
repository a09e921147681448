"""The simulator's tunable behaviour, changed through `PUT /_sandbox/quickbooks/settings` (tests shorten waits)."""

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat

from sandbox.quickbooks.constants import (
    ACCESS_TOKEN_TTL_SECONDS,
    AUTHORIZATION_CODE_TTL_SECONDS,
    RATE_CONCURRENCY,
    RATE_PER_MINUTE,
    REFRESH_GRACE_SECONDS,
    REFRESH_TOKEN_TTL_SECONDS,
    WEBHOOK_RETRY_DELAYS_SECONDS,
    WEBHOOK_TIMEOUT_SECONDS,
)


class QboSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    access_token_ttl_seconds: int = Field(default=ACCESS_TOKEN_TTL_SECONDS, ge=1)
    refresh_token_ttl_seconds: int = Field(default=REFRESH_TOKEN_TTL_SECONDS, ge=1)
    refresh_grace_seconds: int = Field(
        default=REFRESH_GRACE_SECONDS, ge=0, description="How long a superseded refresh token still works."
    )
    rotate_refresh_tokens: bool = Field(default=True, description="Whether a refresh hands out a new refresh token.")
    authorization_code_ttl_seconds: int = Field(default=AUTHORIZATION_CODE_TTL_SECONDS, ge=1)
    requests_per_minute: int = Field(default=RATE_PER_MINUTE, ge=1, description="Per realm.")
    concurrent_requests: int = Field(default=RATE_CONCURRENCY, ge=1, description="Per realm.")
    processing_delay_ms: int = Field(
        default=0, ge=0, le=60_000, description="Time each API request holds its realm's concurrency slot."
    )
    webhook_retry_delays_seconds: list[NonNegativeFloat] = Field(
        default_factory=lambda: list(WEBHOOK_RETRY_DELAYS_SECONDS), max_length=10
    )
    webhook_timeout_seconds: float = Field(default=WEBHOOK_TIMEOUT_SECONDS, gt=0, le=60)


class QboSettingsUpdate(BaseModel):
    """A partial update: only the keys sent change."""

    model_config = ConfigDict(extra="forbid")

    access_token_ttl_seconds: int | None = Field(default=None, ge=1)
    refresh_token_ttl_seconds: int | None = Field(default=None, ge=1)
    refresh_grace_seconds: int | None = Field(default=None, ge=0)
    rotate_refresh_tokens: bool | None = None
    authorization_code_ttl_seconds: int | None = Field(default=None, ge=1)
    requests_per_minute: int | None = Field(default=None, ge=1)
    concurrent_requests: int | None = Field(default=None, ge=1)
    processing_delay_ms: int | None = Field(default=None, ge=0, le=60_000)
    webhook_retry_delays_seconds: list[NonNegativeFloat] | None = Field(default=None, max_length=10)
    webhook_timeout_seconds: float | None = Field(default=None, gt=0, le=60)
