"""What an answer reports is committed before the answer leaves: a client that reads a 201 finds what it created.

FastAPI closes a dependency with `yield` after sending the response unless told otherwise, so the request's
transaction used to commit after the client had its 201 (Schemathesis's stateful pass read a 404 right after).
"""

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from starlette.types import Message, Receive, Scope, Send

from core.db import Database
from core.models import Connection
from tests.conftest import TenantFixture


async def test_a_created_connection_is_committed_when_its_201_starts(
    app: FastAPI, database: Database, tenant: TenantFixture
) -> None:
    seen: dict[str, Any] = {}

    async def watched(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_after_looking(message: Message) -> None:
            if message["type"] == "http.response.start":
                async with database.owner_session() as session:  # its own connection: only committed rows
                    seen["rows"] = await session.scalar(
                        select(func.count()).select_from(Connection).where(Connection.tenant_id == tenant.id)
                    )
            await send(message)

        await app(scope, receive, send_after_looking)

    transport = httpx.ASGITransport(app=watched)
    async with httpx.AsyncClient(transport=transport, base_url="http://ledgerline.test") as client:
        response = await client.post(
            "/v1/connections",
            headers=tenant.headers,
            json={"name": "books", "provider": "intacct", "role": "destination"},
        )
    assert response.status_code == 201, response.text
    assert seen["rows"] == 1
