"""`ledgerline audit verify` and `ledgerline audit anchor`: is the audit log whole, up to its last anchored heads?"""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from core.audit import verify_chains
from core.audit_anchors import (
    AnchorFileError,
    ChainHead,
    anchor_chain_heads,
    anchor_file_lines,
    anchors_in_system_chain,
    chain_heads,
    read_anchor_file,
)
from core.db import Database
from ledgerline.cli_support import CLI_ACTOR, console, load_settings, require_database_url, run_with_database

audit_app = typer.Typer(help="Check the audit log.", no_args_is_help=True)

AnchorFileOption = Annotated[
    Path | None,
    typer.Option(
        "--anchors",
        help="An anchor file written by `ledgerline audit anchor --export`, kept outside the database: "
        "every chain must still reach the heads it holds.",
        exists=True,
        dir_okay=False,
        readable=True,
    ),
]


@audit_app.command("verify")
def audit_verify(anchor_file: AnchorFileOption = None) -> None:
    """Re-compute every audit chain and check it still reaches its last anchored head; exit 1 and name the first
    break of each broken chain (an altered or missing row, or rows cut from its end)."""
    settings = load_settings()
    require_database_url(settings)
    try:
        kept_outside = read_anchor_file(anchor_file) if anchor_file else []
    except AnchorFileError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc

    async def work(database: Database) -> tuple[int, list[str]]:
        async with database.owner_session() as session:
            anchors = [*await anchors_in_system_chain(session), *kept_outside]
            checked, breaks = await verify_chains(session, anchors=anchors)
        return checked, [found.describe() for found in breaks]

    checked, problems = run_with_database(settings, work)
    if problems:
        for line in problems:
            console.print(f"[red]BROKEN[/red] {line}")
        raise typer.Exit(1)
    console.print(f"Audit log intact: {checked} rows verified.")


@audit_app.command("anchor")
def audit_anchor(
    export: Annotated[
        Path | None,
        typer.Option(
            help="Also append every chain's head (the system chain's too) to this file. Keep it where the database's "
            "operators cannot edit it: it is what shows rows cut from the system chain's end.",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Record each chain's head in the system chain now (the worker also does it periodically)."""
    settings = load_settings()
    require_database_url(settings)

    async def work(database: Database) -> tuple[list[ChainHead], list[ChainHead]]:
        async with database.owner_session() as session:
            moved = await anchor_chain_heads(session, actor=CLI_ACTOR)
        async with database.owner_session() as session:
            return moved, await chain_heads(session)

    moved, heads = run_with_database(settings, work)
    console.print(f"Anchored {len(moved)} chain head(s) in the system chain.")
    if export is not None:
        with export.open("a", encoding="utf-8") as file:
            file.write(anchor_file_lines(heads, at=datetime.now(UTC)))
        console.print(f"Appended {len(heads)} chain head(s) to {export}.")
