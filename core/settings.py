"""Typed settings read from `LEDGERLINE_*` environment variables.

Nothing reads the environment at import time: call `get_settings()` (cached) so tests can override it.
"""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.constants import DEV_SESSION_SECRET, DEV_VAULT_KEY, ENV_PREFIX


class InsecureSettingsError(ValueError):
    """A development default secret was left in place outside `LEDGERLINE_ENV=dev`."""


class Settings(BaseSettings):
    """Everything an operator can set. The README lists each field with its variable name."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True, env_ignore_empty=True)

    env: Literal["dev", "test", "prod"] = Field(
        default="prod", description="`dev` allows the built-in development secrets; anything else refuses them."
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "PostgreSQL URL of the table owner (migrations, admin commands). The service itself connects with the "
            "same host and database as the non-owner role `ledgerline_app`. Unset: `demo` starts an embedded server."
        ),
    )
    database_app_password: SecretStr | None = Field(
        default=None, description="Password of the `ledgerline_app` role, when the server does not trust local logins."
    )
    database_pool_size: int = Field(default=10, ge=1, le=200, description="Connections per process and engine.")
    redis_url: str | None = Field(
        default=None, description="Redis URL for the job queue. Unset: `demo` starts an embedded Redis."
    )
    queue_name: str = Field(default="ledgerline:queue", description="arq queue name; lets deployments share a Redis.")
    vault_keys: SecretStr = Field(
        default=SecretStr(DEV_VAULT_KEY),
        description=(
            "Comma-separated Fernet keys encrypting credentials at rest. The first encrypts; all decrypt. "
            "To rotate: prepend a new key, run `ledgerline vault rotate`, then drop the old key."
        ),
    )
    session_secret: SecretStr = Field(
        default=SecretStr(DEV_SESSION_SECRET), description="Signs dashboard session cookies and CSRF tokens."
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where users reach this service; OAuth callbacks are sent to `{public_url}/v1/connections/…`.",
    )
    sandbox_url: str | None = Field(
        default=None,
        description="Send every connector to the Ledgerline sandbox at this URL instead of the real systems.",
    )
    connector_apps: dict[str, dict[str, SecretStr]] = Field(
        default_factory=dict,
        description=(
            'Ledgerline\'s own credentials per system, as JSON: {"fyle": {"client_id": …, "client_secret": …}, '
            '"intacct": {"sender_id": …, "sender_password": …}}.'
        ),
    )
    export_lease_seconds: int = Field(
        default=120,
        ge=1,
        le=3600,
        description="How long a worker holds claimed export items; a killed worker's items return after this.",
    )
    export_retry_base_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="First retry delay ceiling after a transient export failure; it doubles per attempt (capped).",
    )
    data_dir: Path = Field(
        default=Path(".ledgerline-data"), description="Where embedded PostgreSQL and Redis keep their data."
    )
    host: str = Field(
        default="127.0.0.1", description="Address `serve`, `demo` and a worker's metrics endpoint listen on."
    )
    port: int = Field(default=8000, ge=1, le=65535, description="Port `serve` and `demo` listen on.")
    worker_metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description=(
            "Port `worker` serves Prometheus `/metrics` on (exports, destination call latency, rate-budget waits, "
            "jobs). Unset: no endpoint. Each worker process needs its own port on one host."
        ),
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", description="Minimum log level.")
    log_json: bool = Field(default=True, description="JSON log lines (true) or human-readable console lines (false).")

    @model_validator(mode="after")
    def _refuse_development_secrets(self) -> "Settings":
        if self.env == "dev":
            return self
        insecure = [
            name
            for name, value, default in (
                ("LEDGERLINE_VAULT_KEYS", self.vault_keys, DEV_VAULT_KEY),
                ("LEDGERLINE_SESSION_SECRET", self.session_secret, DEV_SESSION_SECRET),
            )
            if default in value.get_secret_value().split(",")
        ]
        if insecure:
            raise InsecureSettingsError(
                f"{', '.join(insecure)} still hold the development default; set real secrets, "
                "or set LEDGERLINE_ENV=dev on a development machine."
            )
        return self

    def connector_app(self, system: str) -> dict[str, str]:
        return {name: value.get_secret_value() for name, value in self.connector_apps.get(system, {}).items()}

    def vault_key_list(self) -> list[str]:
        return [key.strip() for key in self.vault_keys.get_secret_value().split(",") if key.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
