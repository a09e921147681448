"""Fixtures for the dashboard tests: a support key, signing in through the form, and items to look at."""

import re
import secrets
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from core.api_keys import issue_key
from core.db import Database
from core.models import ApiKeyRole

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


async def make_support_key(database: Database) -> str:
    async with database.owner_session() as session:
        issued = issue_key(name=f"support-{uuid.uuid4().hex[:6]}", role=ApiKeyRole.SUPPORT, tenant_id=None)
        session.add(issued.row)
    return issued.plaintext


@pytest.fixture
async def support_key(database: Database) -> str:
    return await make_support_key(database)


def csrf_of(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, key: str) -> httpx.Response:
    """Sign in through the form like a browser: fetch it (token + cookie), post it, follow nothing."""
    form = await client.get("/dashboard/login")
    assert form.status_code == 200
    return await client.post(
        "/dashboard/login", data={"api_key": key, "csrf_token": csrf_of(form.text), "next": "/dashboard"}
    )


async def page_token(client: httpx.AsyncClient, path: str = "/dashboard/connections") -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


async def make_failed_items(
    database: Database,
    tenant_id: uuid.UUID,
    *,
    count: int = 2,
    error_class: str = "destination_rejected",
    message: str = "The period 2024-03 is closed.",
    connection_name: str | None = None,
) -> list[uuid.UUID]:
    """A destination connection with `count` items in needs_action, each with one failed attempt and its audit."""
    from core.audit import append_event
    from core.models import Attempt, Connection, ExportItem

    connection_id = uuid.uuid4()
    ids = [uuid.uuid4() for _ in range(count)]
    async with database.tenant_session(tenant_id) as session:
        session.add(
            Connection(
                id=connection_id,
                tenant_id=tenant_id,
                name=connection_name or f"intacct-{connection_id.hex[:6]}",
                provider="intacct",
                role="destination",
                credentials=b"ciphertext-never-shown",
                webhook_key=secrets.token_urlsafe(12),
            )
        )
        await session.flush()
        for number, item_id in enumerate(ids):
            session.add(
                ExportItem(
                    id=item_id,
                    tenant_id=tenant_id,
                    destination_connection_id=connection_id,
                    destination_provider="intacct",
                    document_type="bill",
                    group_key=f"report:rp-{item_id.hex[:6]}",
                    idempotency_key=f"ll-{item_id.hex}",
                    state="needs_action",
                    attempt_count=1,
                    error_class=error_class,
                    error_code="BL01001973",
                    error_message=message,
                    error_hint="Open the period in Intacct, or set a closed-period remedy.",
                    document={"kind": "bill", "total": f"{10 + number}.00", "lines": []},
                )
            )
            await session.flush()
            session.add(
                Attempt(
                    tenant_id=tenant_id,
                    export_item_id=item_id,
                    number=1,
                    worker="w1",
                    outcome="failed",
                    error_class=error_class,
                    error_code="BL01001973",
                    error_message=message,
                    request_excerpt={"function": "create_potransaction", "password": "[redacted]"},
                    response_excerpt={"status": "failure", "errorno": "BL01001973"},
                    finished_at=datetime.now(UTC),
                )
            )
            await append_event(
                session,
                tenant_id=tenant_id,
                actor="worker:w1",
                action="export_item.needs_action",
                entity_type="export_items",
                entity_id=str(item_id),
                data={"from": "running", "error_class": error_class},
            )
    return ids
