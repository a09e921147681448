"""Helpers for tests that run real `ledgerline worker` processes against the shared test database: starting and
stopping workers, counting item states, and a bulk backlog of pending bills."""

import json
import signal
import subprocess
import time
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import func, select, text

from core.db import Database
from core.models import Connection, ExportItem
from core.repository import TenantRepository
from mappings import expense_to_json
from mappings.constants import IDEMPOTENCY_KEY_DIGEST_CHARS, IDEMPOTENCY_KEY_PREFIX
from mappings.grouping import idempotency_key
from mappings.regrouping import regroup
from tests.conftest import LEDGERLINE_CLI
from tests.mappings.factories import expense
from tests.mappings.seed import expenses as store_expenses
from tests.sync.bill_books import BILL_SETTINGS, BillTenant

WORKER_STOP_SECONDS = 60
BACKLOG_CHUNK = 2_500


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([LEDGERLINE_CLI, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=log.open("a"))


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> list[int]:
    """SIGTERM every worker still running and wait for it; the exit codes (negative: died of a signal)."""
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    return [worker.wait(timeout=WORKER_STOP_SECONDS) for worker in workers]


async def item_states(database: Database, tenant_id: uuid.UUID) -> dict[str, int]:
    async with database.tenant_session(tenant_id) as session:
        rows = await session.execute(select(ExportItem.state, func.count()).group_by(ExportItem.state))
        return {state: count for state, count in rows.all()}


BACKLOG_REPORT = "rp-backlog-{n}"
BACKLOG_EXPENSE = "tx-backlog-{n}"
_TEMPLATE_REPORT = BACKLOG_REPORT.format(n=0)

# One statement per table; each n of generate_series(:first, :last) is a one-expense report grouped into one pending
# bill, exactly as `regroup` would make it: the template's group key with the report id swapped, and the idempotency
# key computed as mappings.grouping.idempotency_key does (sha256 of destination, generation 0 and group key).
_BACKLOG_RECORDS = """
INSERT INTO source_records (id, tenant_id, connection_id, kind, remote_id, parent_remote_id, remote_state, data,
                            fingerprint)
SELECT md5(:seed || ':record:' || n)::uuid, :tenant_id, :source_id, 'expense', 'tx-backlog-' || n,
       'rp-backlog-' || n, 'APPROVED',
       CAST(replace(replace(CAST(:data AS text), '"tx-backlog-0"', '"tx-backlog-' || n || '"'),
                    '"rp-backlog-0"', '"rp-backlog-' || n || '"') AS jsonb),
       md5(:seed || ':fingerprint:' || n) || md5(:seed || ':fingerprint2:' || n)
FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS n
"""
_BACKLOG_ITEMS = """
INSERT INTO export_items (id, tenant_id, destination_connection_id, destination_provider, document_type, group_key,
                          idempotency_key)
SELECT md5(:seed || ':item:' || n)::uuid, :tenant_id, :destination_id, 'intacct', :document_type, keyed.group_key,
       :prefix || left(encode(sha256(convert_to(:destination || E'\\n0\\n' || keyed.group_key, 'UTF8')), 'hex'),
                       :digest_chars)
FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS n,
     LATERAL (SELECT replace(CAST(:template_key AS text), :template_report, 'rp-backlog-' || n) AS group_key) AS keyed
"""
_BACKLOG_LINKS = """
INSERT INTO export_item_records (tenant_id, export_item_id, source_record_id)
SELECT :tenant_id, md5(:seed || ':item:' || n)::uuid, md5(:seed || ':record:' || n)::uuid
FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS n
"""


async def add_backlog(database: Database, books: BillTenant, target: int, *, budget_seconds: float) -> int:
    """Up to `target` pending one-expense bills for `books`, inserted in bulk (INSERT … SELECT generate_series, in
    chunks of BACKLOG_CHUNK) until `target` or `budget_seconds` is reached; returns how many were made.

    A template report is grouped by `regroup` first and the bulk rows copy its shape, so the backlog is what grouping
    would have made, only faster; the template item itself is then dropped. The bulk rows go in as the table owner:
    they name their tenant explicitly, and checking the row-level security policies row by row would make 100,000
    take a minute instead of about ten seconds (the foreign keys are still checked).
    """
    started = time.monotonic()
    template = expense(id=BACKLOG_EXPENSE.format(n=0), report_id=_TEMPLATE_REPORT, spent_on=date(2024, 3, 1))
    async with database.tenant_session(books.tenant.id) as session:
        repository = TenantRepository(session, books.tenant.id, "test")
        await store_expenses(session, books.tenant.id, books.source_id, [template])
        destination = await session.get(Connection, books.destination_id)
        assert destination is not None
        await regroup(repository, destination=destination, settings=BILL_SETTINGS)
        item = (await session.scalars(select(ExportItem).where(ExportItem.tenant_id == books.tenant.id))).one()
        assert item.idempotency_key == idempotency_key(books.destination_id, item.group_key, 0)
        assert _TEMPLATE_REPORT in item.group_key
        # The template leaves: its record and item must not count among the backlog.
        await session.execute(text("DELETE FROM export_items WHERE id = :id"), {"id": item.id})  # links cascade
        await session.execute(
            text("DELETE FROM source_records WHERE tenant_id = :t AND remote_id = :r"),
            {"t": books.tenant.id, "r": template.id},
        )
    parameters: dict[str, object] = {
        "seed": uuid.uuid4().hex,
        "tenant_id": books.tenant.id,
        "source_id": books.source_id,
        "destination_id": books.destination_id,
        "destination": str(books.destination_id),
        "document_type": item.document_type,
        "template_key": item.group_key,
        "template_report": _TEMPLATE_REPORT,
        "prefix": IDEMPOTENCY_KEY_PREFIX,
        "digest_chars": IDEMPOTENCY_KEY_DIGEST_CHARS,
        "data": json.dumps(expense_to_json(template)),
    }
    made = 0
    while made < target and time.monotonic() - started < budget_seconds:
        last = min(made + BACKLOG_CHUNK, target)
        async with database.owner_session() as session:
            for statement in (_BACKLOG_RECORDS, _BACKLOG_ITEMS, _BACKLOG_LINKS):
                await session.execute(text(statement), {**parameters, "first": made + 1, "last": last})
        made = last
    async with database.tenant_session(books.tenant.id) as session:
        # Spot-check one bulk row against the Python definition of its idempotency key.
        first_key, first_group = (
            await session.execute(
                text("SELECT idempotency_key, group_key FROM export_items WHERE id = md5(:seed || ':item:1')::uuid"),
                {"seed": parameters["seed"]},
            )
        ).one()
    assert first_key == idempotency_key(books.destination_id, first_group, 0)
    return made


async def remove_tenant_work(database: Database, books: BillTenant) -> None:
    """Pause the tenant's destination and delete its items (attempts and links cascade) and source records, so a
    left-over backlog costs the other tests sharing the database (and its workers' reconcilers) nothing."""
    async with database.tenant_session(books.tenant.id) as session:
        await session.execute(text("UPDATE connections SET paused = true WHERE id = :id"), {"id": books.destination_id})
    async with database.tenant_session(books.tenant.id) as session:
        await session.execute(text("DELETE FROM export_items WHERE tenant_id = :t"), {"t": books.tenant.id})
        await session.execute(text("DELETE FROM source_records WHERE tenant_id = :t"), {"t": books.tenant.id})
