"""`ledgerline books check`: do the destination's documents hold each exportable expense once, for its amount?

Runs `sync.books_check` (as `GET /v1/connections/{id}/reconciliation` does) and exits 1 on any difference, so a
scheduler or a chaos run can act on the verdict; 2 when the connection or the range is wrong.
"""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from api.reconciliation import ReconciliationPublic
from core.db import Database
from core.errors import LedgerlineError
from core.models import Connection, ConnectionRole
from ledgerline.cli_support import console, load_settings, require_database_url, run_with_database
from ledgerline.cli_sync import CommandError, _destination
from sync.books_check import DEFAULT_RANGE_DAYS, BooksReport, UnknownConnectionError, check_connection_books

books_app = typer.Typer(help="Compare the books with the source.", no_args_is_help=True)


async def _connection(database: Database, connection: str, tenant: str | None) -> Connection:
    """By id (any tenant's, for an operator), or by name within --tenant."""
    if tenant is not None:
        return await _destination(database, tenant, connection)
    try:
        connection_id = uuid.UUID(connection)
    except ValueError as exc:
        raise CommandError(
            f"{connection!r} is not a connection id; name the tenant with --tenant to use a name."
        ) from exc
    async with database.owner_session() as session:
        row = await session.scalar(
            select(Connection).where(
                Connection.id == connection_id, Connection.role == ConnectionRole.DESTINATION.value
            )
        )
    if row is None:
        raise CommandError(f"No destination connection {connection}.")
    return row


def _print(connection: Connection, report: BooksReport) -> None:
    console.print(
        f"Books of {connection.name} ({connection.id}), spent {report.since} to {report.until}: "
        f"{report.expenses} exportable expenses, {report.documents} documents, "
        f"{report.difference_count} differences"
    )
    for entity in report.unreadable:
        console.print(f"Entity {entity.entity} could not be read, its documents were not compared: {entity.reason}")
    if report.missing:
        table = Table("missing expense", "report", "amount", "item reference", title="In no document")
        for missing in report.missing:
            table.add_row(
                missing.expense_id,
                missing.report_id or "",
                f"{missing.amount} {missing.currency}",
                missing.reference or "",
            )
        console.print(table)
    if report.duplicated:
        table = Table("expense", "documents (reference / record)", title="In more than one document")
        for duplicated in report.duplicated:
            held = ", ".join(
                f"{ref} / {rid}" for ref, rid in zip(duplicated.references, duplicated.remote_ids, strict=True)
            )
            table.add_row(duplicated.expense_id, held)
        console.print(table)
    if report.differences:
        table = Table("expense", "document", "source", "booked", title="Amounts that differ")
        for changed in report.differences:
            table.add_row(
                changed.expense_id,
                f"{changed.reference} / {changed.remote_id}",
                f"{changed.source} {changed.currency}",
                f"{changed.booked} {changed.currency}",
            )
        console.print(table)
    table = Table("currency", "source", "booked", "difference", title="Totals per currency")
    for total in report.currencies:
        table.add_row(total.currency, f"{total.source}", f"{total.booked}", f"{total.difference}")
    console.print(table)


@books_app.command("check")
def books_check(
    connection: Annotated[str, typer.Option(help="The destination connection: its id, or its name with --tenant.")],
    tenant: Annotated[str | None, typer.Option(help="The tenant (id or slug), to name the connection.")] = None,
    since: Annotated[
        datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="First day of spend (default: a month ago).")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day of spend (default: today).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The report as the API answers it.")] = False,
) -> None:
    """Exportable expenses against the destination's documents: missing, duplicated, amounts that differ."""
    settings = load_settings()
    require_database_url(settings)
    last: date = until.date() if until else datetime.now(UTC).date()
    first: date = since.date() if since else last - timedelta(days=DEFAULT_RANGE_DAYS)

    async def work(database: Database) -> tuple[Connection, BooksReport]:
        row = await _connection(database, connection, tenant)
        report = await check_connection_books(
            database=database,
            settings=settings,
            tenant_id=row.tenant_id,
            connection_id=row.id,
            since=first,
            until=last,
        )
        return row, report

    try:
        row, report = run_with_database(settings, work)
    except (CommandError, UnknownConnectionError, ValueError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    except LedgerlineError as exc:
        console.print(f"[red]The destination could not be read:[/red] {exc}")
        raise typer.Exit(2) from exc
    if as_json:
        print(ReconciliationPublic.of(report).model_dump_json(by_alias=True))
    else:
        _print(row, report)
    raise typer.Exit(0 if report.clean else 1)
