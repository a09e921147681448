"""Typed settings read from `LEDGERLINE_*` environment variables.

Nothing reads the environment at import time: call `get_settings()` (cached) so tests can override it.
"""

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.constants import DEV_SESSION_SECRET, DEV_VAULT_KEY, ENV_PREFIX
from core.secret_strength import weak_session_secret


class InsecureSettingsError(ValueError):
    """A development default, a placeholder or a guessable secret was left in place outside `LEDGERLINE_ENV=dev`."""


class Settings(BaseSettings):
    """Everything an operator can set. The README lists each field with its variable name."""

    # Errors never echo the input: a refused value may be a secret.
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", frozen=True, env_ignore_empty=True, hide_input_in_errors=True
    )

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
        default=SecretStr(DEV_SESSION_SECRET),
        description=(
            "Signs dashboard cookies and CSRF tokens. Outside `dev`: at least 32 random bytes "
            "(`openssl rand -base64 32`); placeholders are refused."
        ),
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where users reach this service; OAuth callbacks are sent to `{public_url}/v1/connections/…`.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Comma-separated addresses or networks (CIDR) of the reverse proxies in front of the API. Only their "
            "`X-Forwarded-For`/`X-Forwarded-Proto` are believed; empty: no forwarded header is."
        ),
    )
    sign_in_failure_limit: int = Field(
        default=20,
        ge=1,
        le=10_000,
        description="Failed API-key and dashboard sign-in attempts allowed per client address and window; then 429.",
    )
    sign_in_failure_window_seconds: int = Field(
        default=900, ge=1, le=86_400, description="The window over which failed sign-in attempts are counted."
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

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: list[str]) -> list[str]:
        """Written back as networks (`10.9.0.7/24` → `10.9.0.0/24`): the proxy middleware takes an entry with host
        bits set for a name, which no client address ever matches."""
        networks = []
        for entry in value:
            try:
                network = ipaddress.ip_network(entry, strict=False)
                networks.append(str(network) if "/" in entry else str(network.network_address))
            except ValueError as exc:
                raise ValueError(f"LEDGERLINE_TRUSTED_PROXIES: {entry!r} is not an address or network") from exc
        return networks

    @property
    def public_url_is_https(self) -> bool:
        """Cookies get `Secure` from this, not from the request: behind a TLS-terminating proxy the request is http."""
        return urlsplit(self.public_url).scheme == "https"

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
        weakness = weak_session_secret(self.session_secret.get_secret_value())
        if weakness is not None:
            raise InsecureSettingsError(
                f"LEDGERLINE_SESSION_SECRET is refused: {weakness}. Generate one with `openssl rand -base64 32`, "
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
