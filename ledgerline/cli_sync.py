"""`ledgerline sync`: start a run and follow it with a progress bar, list runs, pause and resume a connection."""

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import or_, select

from core.db import Database
from core.models import Connection, ConnectionRole, RunState, SyncRun, Tenant
from core.settings import Settings
from ledgerline.cli_support import CLI_ACTOR, console, load_settings, require_database_url, tenant_filter
from sync.queue import Queue
from sync.runs import RunKind, RunRefusedError, RunTrigger, enqueue_run, request_run, set_paused

sync_app = typer.Typer(help="Start, follow, pause and resume syncs.", no_args_is_help=True)

POLL_SECONDS = 0.5
FINISHED = {RunState.SUCCEEDED.value, RunState.FAILED.value, RunState.CANCELLED.value}

TenantOption = Annotated[str, typer.Option(help="The tenant (id or slug).")]
ConnectionOption = Annotated[
    str | None,
    typer.Option(help="The destination connection (name or id); may be left out when the tenant has only one."),
]


class CommandError(Exception):
    """Something the person typing can fix; printed without a traceback."""


async def _destination(database: Database, tenant: str, connection: str | None) -> Connection:
    async with database.owner_session() as session:
        tenant_row = await session.scalar(select(Tenant).where(tenant_filter(tenant)))
        if tenant_row is None:
            raise CommandError(f"No tenant {tenant!r}.")
        query = select(Connection).where(
            Connection.tenant_id == tenant_row.id, Connection.role == ConnectionRole.DESTINATION.value
        )
        if connection is not None:
            by_id = Connection.id == uuid.UUID(connection) if _is_uuid(connection) else None
            query = query.where(or_(Connection.name == connection, *([by_id] if by_id is not None else [])))
        found = list((await session.scalars(query.order_by(Connection.name))).all())
    if not found:
        raise CommandError(
            f"Tenant {tenant!r} has no destination connection{f' {connection!r}' if connection else ''}."
        )
    if len(found) > 1:
        names = ", ".join(row.name for row in found)
        raise CommandError(f"Tenant {tenant!r} has several destinations ({names}); choose one with --connection.")
    return found[0]


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


CommandWork = Callable[[Database, Queue], Awaitable[None]]


def _run_command(settings: Settings, work: CommandWork) -> None:
    async def run() -> None:
        database = Database(settings)
        queue = await Queue.connect(settings.redis_url, settings.queue_name)
        try:
            await work(database, queue)
        finally:
            await queue.close()
            await database.dispose()

    try:
        asyncio.run(run())
    except CommandError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


async def _follow(database: Database, run: SyncRun) -> SyncRun:
    """Show the run's phase and export progress until it finishes."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("waiting for a worker", total=None)
        while True:
            async with database.tenant_session(run.tenant_id) as session:
                current = await session.get(SyncRun, run.id)
            assert current is not None
            export = current.counts.get("export", {})
            total = export.get("total")
            done = None if total is None else total - export.get("remaining", 0)
            phase = current.phase or ("finished" if current.state in FINISHED else current.state)
            progress.update(task, description=f"{phase:<12}", total=total, completed=done or 0)
            if current.state in FINISHED:
                return current
            await asyncio.sleep(POLL_SECONDS)


def _print_outcome(run: SyncRun) -> None:
    colour = "green" if run.state == RunState.SUCCEEDED.value else "red"
    console.print(f"Run {run.id}: [{colour}]{run.state}[/{colour}]")
    for line in run.log[-20:]:
        console.print(f"  {line.get('phase') or '-':<11} {line.get('message')}")
    console.print(json.dumps(run.counts, indent=2, sort_keys=True))
    if run.error_message:
        console.print(f"[red]{run.error_message}[/red]")


@sync_app.command("run")
def sync_run(
    tenant: TenantOption,
    connection: ConnectionOption = None,
    kind: Annotated[RunKind, typer.Option(help="Which phases: sync runs them all.")] = RunKind.SYNC,
    wait: Annotated[bool, typer.Option(help="Follow the run with a progress bar until it finishes.")] = False,
) -> None:
    """Start a sync run for a tenant's destination (or join the one already waiting or running)."""
    settings = load_settings()
    require_database_url(settings)
    outcome: list[SyncRun] = []

    async def work(database: Database, queue: Queue) -> None:
        destination = await _destination(database, tenant, connection)
        async with database.tenant_session(destination.tenant_id) as session:
            try:
                run, created = await request_run(
                    session, connection=destination, kind=kind, trigger=RunTrigger.MANUAL, requested_by=CLI_ACTOR
                )
            except RunRefusedError as exc:
                raise CommandError(str(exc)) from exc
        if created:
            await enqueue_run(queue, run, job_id=f"run:{run.id}:requested")
        console.print(f"{'Started' if created else 'Joined'} {run.kind} run {run.id} for {destination.name}.")
        if not wait:
            return
        from sync.jobs import live_workers  # the engine's imports are only worth it when waiting

        if not await live_workers(queue):
            console.print("[yellow]No worker is running: start one with `ledgerline worker`.[/yellow]")
        outcome.append(await _follow(database, run))

    _run_command(settings, work)
    if outcome:
        _print_outcome(outcome[0])
        if outcome[0].state != RunState.SUCCEEDED.value:
            raise typer.Exit(1)


@sync_app.command("runs")
def sync_runs(tenant: TenantOption, connection: ConnectionOption = None, limit: int = 20) -> None:
    """List a destination's latest runs."""
    settings = load_settings()
    require_database_url(settings)

    async def work(database: Database, queue: Queue) -> None:
        destination = await _destination(database, tenant, connection)
        async with database.tenant_session(destination.tenant_id) as session:
            runs = (
                await session.scalars(
                    select(SyncRun)
                    .where(SyncRun.tenant_id == destination.tenant_id, SyncRun.connection_id == destination.id)
                    .order_by(SyncRun.created_at.desc())
                    .limit(limit)
                )
            ).all()
        table = Table("run", "kind", "trigger", "state", "phase", "created", "error")
        for run in runs:
            table.add_row(
                str(run.id),
                run.kind,
                run.trigger,
                run.state,
                run.phase or "",
                run.created_at.isoformat(timespec="seconds"),
                run.error_message or "",
            )
        console.print(table)

    _run_command(settings, work)


def _set_paused(tenant: str, connection: str | None, paused: bool) -> None:
    settings = load_settings()
    require_database_url(settings)

    async def work(database: Database, queue: Queue) -> None:
        destination = await _destination(database, tenant, connection)
        async with database.tenant_session(destination.tenant_id) as session:
            row = await session.get(Connection, destination.id)
            assert row is not None
            await set_paused(session, connection=row, paused=paused, actor=CLI_ACTOR)
        console.print(f"{destination.name}: {'paused' if paused else 'resumed'}.")

    _run_command(settings, work)


@sync_app.command("pause")
def sync_pause(tenant: TenantOption, connection: ConnectionOption = None) -> None:
    """Stop claiming the destination's work; items and runs wait without using attempts."""
    _set_paused(tenant, connection, True)


@sync_app.command("resume")
def sync_resume(tenant: TenantOption, connection: ConnectionOption = None) -> None:
    """Let a paused destination's work go again."""
    _set_paused(tenant, connection, False)
