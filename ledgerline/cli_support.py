"""What every `ledgerline` sub-command shares: the console, settings loading and a database for one command."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy import ColumnElement

from core.db import Database
from core.log import configure_logging
from core.models import Tenant
from core.settings import Settings, get_settings

console = Console()
CLI_ACTOR = "cli"
T = TypeVar("T")


def load_settings() -> Settings:
    try:
        settings = get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            console.print(f"[red]Settings refused:[/red] {error['msg']}")
        raise typer.Exit(2) from exc
    configure_logging(level=settings.log_level, json=settings.log_json)
    return settings


def require_database_url(settings: Settings) -> str:
    if not settings.database_url:
        console.print("[red]LEDGERLINE_DATABASE_URL is not set.[/red] Set it, or use `ledgerline demo`.")
        raise typer.Exit(2)
    return settings.database_url


def run_with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    async def run() -> T:
        database = Database(settings)
        try:
            return await work(database)
        finally:
            await database.dispose()

    return asyncio.run(run())


def tenant_filter(reference: str) -> ColumnElement[bool]:
    try:
        return Tenant.id == uuid.UUID(reference)
    except ValueError:
        return Tenant.slug == reference
