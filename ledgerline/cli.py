"""`ledgerline` command line: serve, worker, migrate, tenants, api-keys, audit, vault, secrets, demo."""

import asyncio
import os
import re
import signal
import socket
import sys
import time
import uuid
from contextlib import suppress
from typing import TYPE_CHECKING, Annotated

import typer
import uvicorn
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import func, select

from core.crypto import CredentialVault, VaultError
from core.db import Database
from core.log import configure_logging
from core.models import ENCRYPTED_COLUMNS, Connection, Tenant
from core.settings import Settings
from ledgerline.cli_audit import audit_app
from ledgerline.cli_books import books_app
from ledgerline.cli_keys import keys_app
from ledgerline.cli_secrets import secrets_app
from ledgerline.cli_support import (
    CLI_ACTOR,
    console,
    load_settings,
    require_database_url,
    run_with_database,
    tenant_filter,
)
from ledgerline.cli_sync import sync_app
from ledgerline.constants import DEMO_TENANT_SLUG
from ledgerline.tenants import create_tenant
from ledgerline.worker_metrics import serve_worker_metrics
from sandbox.constants import DEFAULT_PORT as DEFAULT_SANDBOX_PORT
from sandbox.constants import DEFAULT_SEED as DEFAULT_SANDBOX_SEED

if TYPE_CHECKING:
    from ledgerline.demo_banner import DemoReady

app = typer.Typer(help="Ledgerline: expenses into the books, exactly once.", no_args_is_help=True)
tenants_app = typer.Typer(help="Create and list tenants.", no_args_is_help=True)
vault_app = typer.Typer(help="Manage the credential vault keys.", no_args_is_help=True)
app.add_typer(tenants_app, name="tenants")
app.add_typer(keys_app, name="api-keys")
app.add_typer(audit_app, name="audit")
app.add_typer(vault_app, name="vault")
app.add_typer(secrets_app, name="secrets")
app.add_typer(sync_app, name="sync")
app.add_typer(books_app, name="books")

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
ROTATE_BATCH_ROWS = 200


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Serve the REST API (and, later, webhooks and the dashboard)."""
    from ledgerline.app import create_app  # the heavy modules are imported by the commands that use them

    settings = load_settings()
    require_database_url(settings)
    # proxy_headers=False: the app believes X-Forwarded-* from LEDGERLINE_TRUSTED_PROXIES only, not uvicorn's default.
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,
        proxy_headers=False,
    )


@app.command()
def worker() -> None:
    """Run a queue worker. Start as many as you like on the same PostgreSQL and Redis."""
    from ledgerline.worker import create_worker

    settings = load_settings()
    require_database_url(settings)
    if settings.worker_metrics_port is not None:  # the API's /metrics cannot see what this process counts
        serve_worker_metrics(host=settings.host, port=settings.worker_metrics_port, env=settings.env)
        console.print(f"Worker metrics on http://{settings.host}:{settings.worker_metrics_port}/metrics")
    try:
        create_worker(settings).run()
    except asyncio.CancelledError:
        # arq cancels the jobs still running when asked to stop; their leases expire and other workers resume them.
        console.print("Worker stopped; jobs in flight were cancelled and will be resumed by other workers.")


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    downgrade: Annotated[bool, typer.Option("--downgrade", help="Go down to REVISION instead of up.")] = False,
) -> None:
    """Bring the database schema to a revision (as the table owner)."""
    from core import migrate as migrations

    settings = load_settings()
    url = require_database_url(settings)
    if downgrade:
        migrations.downgrade(url, revision)
    else:
        migrations.upgrade(url, revision)
        if settings.database_app_password:
            migrations.set_app_role_password(url, settings.database_app_password.get_secret_value())
    console.print(f"Database at revision {revision}{' (downgraded)' if downgrade else ''}.")


@tenants_app.command("create")
def tenants_create(
    name: Annotated[str, typer.Argument(help="Display name.")],
    slug: Annotated[str | None, typer.Option(help="Short unique name; derived from NAME if omitted.")] = None,
) -> None:
    """Create a tenant."""
    settings = load_settings()
    require_database_url(settings)
    slug = slug or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63]
    if not SLUG_PATTERN.match(slug):
        console.print(f"[red]Slug {slug!r} must be lowercase letters, digits and dashes (1-63).[/red]")
        raise typer.Exit(2)

    async def work(database: Database) -> Tenant | None:
        async with database.owner_session() as session:
            if (await session.scalars(select(Tenant).where(Tenant.slug == slug))).first():
                return None
        return await create_tenant(database, name=name, slug=slug, actor=CLI_ACTOR)

    tenant = run_with_database(settings, work)
    if tenant is None:
        console.print(f"[red]A tenant with slug {slug!r} already exists.[/red]")
        raise typer.Exit(1)
    console.print(f"Created tenant {tenant.slug} ({tenant.id}).")


@tenants_app.command("list")
def tenants_list() -> None:
    """List tenants."""
    settings = load_settings()
    require_database_url(settings)

    async def work(database: Database) -> list[Tenant]:
        async with database.owner_session() as session:
            return list((await session.scalars(select(Tenant).order_by(Tenant.created_at))).all())

    table = Table("id", "slug", "name", "created")
    for tenant in run_with_database(settings, work):
        table.add_row(str(tenant.id), tenant.slug, tenant.name, tenant.created_at.isoformat(timespec="seconds"))
    console.print(table)


@app.command()
def connections(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant (id or slug).")] = None,
) -> None:
    """List connections and their health across tenants (never their credentials)."""
    settings = load_settings()
    require_database_url(settings)

    async def work(database: Database) -> list[tuple[Tenant, Connection]]:
        async with database.owner_session() as session:
            query = select(Tenant, Connection).join(Connection, Connection.tenant_id == Tenant.id)
            if tenant is not None:
                query = query.where(tenant_filter(tenant))
            rows = await session.execute(query.order_by(Tenant.slug, Connection.name))
            return [(row[0], row[1]) for row in rows]

    table = Table("tenant", "connection", "system", "role", "status", "paused", "reason")
    for owner, connection in run_with_database(settings, work):
        status = connection.status if connection.status == "active" else f"[red]{connection.status}[/red]"
        table.add_row(
            owner.slug,
            connection.name,
            connection.provider,
            connection.role,
            status,
            "yes" if connection.paused else "",
            connection.status_reason or "",
        )
    console.print(table)


@vault_app.command("new-key")
def vault_new_key() -> None:
    """Print a new vault key, to put first in LEDGERLINE_VAULT_KEYS before `vault rotate`."""
    typer.echo(CredentialVault.new_key())


@vault_app.command("rotate")
def vault_rotate() -> None:
    """Re-encrypt every stored credential with the first key of LEDGERLINE_VAULT_KEYS."""
    settings = load_settings()
    require_database_url(settings)
    try:
        vault = CredentialVault(settings.vault_key_list())
        rotated = run_with_database(settings, lambda database: rotate_credentials(database, vault))
    except VaultError as exc:
        console.print(f"[red]Rotation stopped:[/red] {exc}. Rows before it are re-encrypted; fix the keys and re-run.")
        raise typer.Exit(1) from exc
    console.print(f"Re-encrypted {rotated} credential values with the first vault key.")


async def rotate_credentials(database: Database, vault: CredentialVault) -> int:
    """Rotate every encrypted column, one batch per transaction, with a progress bar."""
    rotated = 0
    async with database.owner_session() as session:
        totals = {
            (model, column): await session.scalar(
                select(func.count()).select_from(model).where(getattr(model, column).is_not(None))
            )
            or 0
            for model, column in ENCRYPTED_COLUMNS
        }
    with Progress(console=console, transient=True) as progress:
        for (model, column), total in totals.items():
            task = progress.add_task(f"{model.__tablename__}.{column}", total=total)
            last_id: uuid.UUID | None = None
            while True:
                async with database.owner_session() as session:
                    query = select(model).where(getattr(model, column).is_not(None)).order_by(model.id)  # type: ignore[attr-defined]
                    if last_id is not None:
                        query = query.where(model.id > last_id)  # type: ignore[attr-defined]
                    rows = (await session.scalars(query.limit(ROTATE_BATCH_ROWS).with_for_update())).all()
                    for row in rows:
                        try:
                            setattr(row, column, vault.rotate(getattr(row, column)))
                        except VaultError as exc:
                            raise VaultError(f"{model.__tablename__} row {row.id}: {exc}") from exc  # type: ignore[attr-defined]
                if not rows:
                    break
                last_id = rows[-1].id  # type: ignore[attr-defined]
                rotated += len(rows)
                progress.advance(task, len(rows))
    return rotated


@app.command()
def sandbox(
    systems: Annotated[str | None, typer.Option(help="Comma-separated simulators to run (default: all).")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = DEFAULT_SANDBOX_PORT,
    seed: Annotated[int, typer.Option(help="Seed of the generated data and of fault draws.")] = DEFAULT_SANDBOX_SEED,
) -> None:
    """Run the simulators of the external systems with their control API at /_sandbox."""
    from sandbox.app import SYSTEMS, Sandbox

    configure_logging(level="INFO", json=False)
    try:
        chosen = list(SYSTEMS) if systems is None else [name.strip() for name in systems.split(",") if name.strip()]
        box = Sandbox(chosen, seed=seed)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    console.print(
        f"Sandbox ({', '.join(box.systems)}) on http://{host}:{port}; control API at /_sandbox (OpenAPI UI at /docs)"
    )
    uvicorn.run(box.asgi(), host=host, port=port, log_config=None)


@app.command()
def demo(
    port: Annotated[int | None, typer.Option(help="Port to serve on.")] = None,
    empty: Annotated[bool, typer.Option("--empty", help="Only a blank demo tenant: no connections, no data.")] = False,
) -> None:
    """Run the whole product on this machine: embedded PostgreSQL and Redis unless URLs are configured, the sandbox's
    simulators, and a demo tenant with every system connected, a first export done and a few failures to fix."""
    from core import migrate as migrations
    from ledgerline.demo_banner import demo_banner
    from ledgerline.embedded import EmbeddedServices
    from sandbox.app import Sandbox
    from sandbox.server import BackgroundServer

    settings = Settings(env="dev")  # the demo runs on development secrets by design
    configure_logging(level=settings.log_level, json=False)
    embedded = EmbeddedServices(settings.data_dir)
    simulators: BackgroundServer | None = None
    try:
        started = time.monotonic()
        updates: dict[str, object] = {}
        if not settings.database_url:
            updates["database_url"] = embedded.start_postgres()
        if not settings.redis_url:
            updates["redis_url"] = embedded.start_redis()
        port = port or settings.port
        base = f"http://{settings.host}:{port}"
        if "LEDGERLINE_PUBLIC_URL" not in os.environ:
            updates["public_url"] = base
        if not settings.sandbox_url:
            simulators = BackgroundServer(Sandbox().asgi(), port=_sandbox_port()).start()
            updates["sandbox_url"] = simulators.url
        settings = settings.model_copy(update=updates)
        console.print(
            f"Database: {'embedded' if 'database_url' in updates else 'configured'}; "
            f"Redis: {'embedded' if 'redis_url' in updates else 'configured'}; "
            f"sandbox: {'started' if simulators else 'configured'} at {settings.sandbox_url}."
        )
        assert settings.database_url is not None
        migrations.upgrade(settings.database_url)
        settings, ready = asyncio.run(_prepare_demo(settings, empty=empty))
        for line in demo_banner(settings, ready, base=base, seconds=time.monotonic() - started):
            console.print(line, soft_wrap=True, highlight=False, markup=False)
        asyncio.run(_serve_with_worker(settings, port))
    finally:
        if simulators is not None:
            simulators.stop()
        embedded.stop()
    console.print("Stopped.")


def _sandbox_port() -> int:
    """The sandbox's usual port when it is free, so its control URL stays the same from one start to the next."""
    from sandbox.server import free_port

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: a just-closed port is free
        try:
            probe.bind(("127.0.0.1", DEFAULT_SANDBOX_PORT))
        except OSError:
            return free_port()
    return DEFAULT_SANDBOX_PORT


async def _prepare_demo(settings: Settings, *, empty: bool) -> tuple[Settings, "DemoReady"]:
    """The demo tenant set up (or found), and fresh sign-in links for its admin and for support."""
    from ledgerline.demo_access import demo_sign_in_links
    from ledgerline.demo_banner import DemoReady
    from ledgerline.demo_seed import seed_demo
    from ledgerline.demo_simulators import DemoSimulators, with_simulator_apps
    from sync.queue import Queue

    assert settings.sandbox_url is not None
    async with DemoSimulators(settings.sandbox_url) as simulators:
        settings = with_simulator_apps(settings, settings.sandbox_url, await simulators.seeds())
        database = Database(settings)
        queue = await Queue.connect(settings.redis_url, settings.queue_name)
        try:
            with console.status("Setting up the demo tenant (first start: import, pull, map, arrange failures)…"):
                report = await seed_demo(
                    database,
                    settings=settings,
                    simulators=simulators,
                    queue=queue,
                    slug=DEMO_TENANT_SLUG,
                    empty=empty,
                )
            links = await demo_sign_in_links(
                database, queue.redis, public_url=settings.public_url, tenant_id=report.tenant_id
            )
        finally:
            await queue.close()
            await database.dispose()
        return settings, DemoReady(report=report, links=links, control_url=simulators.control_url)


async def _serve_with_worker(settings: Settings, port: int) -> None:
    """API and one worker in one event loop, stopping both cleanly on SIGINT or SIGTERM."""
    from ledgerline.app import create_app
    from ledgerline.worker import create_worker

    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host=settings.host, port=port, log_config=None, proxy_headers=False)
    )
    worker = create_worker(settings, handle_signals=False)

    def request_stop(_signal: int, _frame: object) -> None:
        server.should_exit = True

    # uvicorn swaps in its own handlers while serving and re-raises the signal afterwards: these catch that.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, request_stop)
    worker_task = asyncio.create_task(worker.async_run())
    try:
        await server.serve()
    finally:
        worker_task.cancel()
        with suppress(asyncio.CancelledError):
            await worker_task
        # A job stopped in flight (a reconciler pass at Ctrl-C) is re-raised as CancelledError while close() gathers
        # it; its row's lease brings the work back, so stopping is still clean.
        with suppress(asyncio.CancelledError):
            await worker.close()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
