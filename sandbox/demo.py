"""The demo hooks every simulator offers under `/_sandbox/{system}/demo`, so that `ledgerline demo` can set up a
tenant without knowing any system's seeded companies, accounts or vendors:

- `GET  …/demo`             a `DemoSeed`: Ledgerline's app credentials, how a tenant connects (credentials, or the
                            refresh token of a seeded grant and the parameters its OAuth callback would carry), and
                            for a destination sensible export settings and the seeded records worth mapping to;
- `POST …/demo/close_books` `{"through": day}`: postings dated on or before that day are refused from now on, at
                            the system's own granularity (answers the last closed day; with `"dry_run": true` it
                            only says which day that would be);
- `POST …/demo/deactivate`  `{"attribute_type", "remote_id"}`: a record made inactive, as a bookkeeper would.

The answers speak Ledgerline's connector vocabulary (attribute types, export settings) as plain data: this package
imports nothing of Ledgerline's.
"""

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Connect(BaseModel):
    credentials: dict[str, str] | None = Field(default=None, description="A tenant's credentials (credentials mode).")
    refresh_token: str | None = Field(default=None, description="The seeded grant's refresh token (OAuth2).")
    callback: dict[str, str] = Field(
        default_factory=dict, description="What the OAuth callback would carry besides code and state (a company id)."
    )


class DemoSeed(BaseModel):
    app: dict[str, str] = Field(description="Ledgerline's own credentials with the system (LEDGERLINE_CONNECTOR_APPS).")
    connect: Connect
    export_settings: dict[str, Any] | None = Field(default=None, description="A destination's export settings.")
    mapping_choices: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Per attribute type, the remote ids of seeded records a tenant would map its values to.",
    )


class CloseBooks(BaseModel):
    model_config = ConfigDict(extra="forbid")

    through: date
    dry_run: bool = Field(default=False, description="Only answer the last day this would close.")


class BooksClosed(BaseModel):
    closed_through: date


class Deactivate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attribute_type: str
    remote_id: str
