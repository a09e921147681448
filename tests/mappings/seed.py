"""Rows the mappings tests need: connections, destination attributes and expenses in `source_records`."""

import hashlib
import json
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database
from core.domain import Expense
from core.models import Connection, DestinationAttribute, Mapping, SourceRecord
from mappings import expense_to_json
from tests.conftest import TenantFixture


async def connection(session: AsyncSession, tenant_id: uuid.UUID, *, role: str, name: str | None = None) -> Connection:
    provider = "intacct" if role == "destination" else "fyle"
    row = Connection(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        name=name or f"{provider}-{uuid.uuid4().hex[:6]}",
        provider=provider,
        role=role,
        webhook_key=secrets.token_urlsafe(16),
    )
    session.add(row)
    await session.flush()
    return row


async def attributes(
    session: AsyncSession, tenant_id: uuid.UUID, connection_id: uuid.UUID, specs: Iterable[tuple[Any, ...]]
) -> dict[tuple[str, str], DestinationAttribute]:
    """From (type, remote id, name[, code[, active[, detail]]]) specs; keyed by (type, remote id)."""
    rows = {}
    for spec in specs:
        attribute_type, remote_id, name, *rest = spec
        code = rest[0] if rest else remote_id
        active = rest[1] if len(rest) > 1 else True
        detail = rest[2] if len(rest) > 2 else {}
        row = DestinationAttribute(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            connection_id=connection_id,
            attribute_type=attribute_type,
            remote_id=remote_id,
            name=name,
            code=code,
            active=active,
            detail=detail,
        )
        session.add(row)
        rows[(attribute_type, remote_id)] = row
    await session.flush()
    return rows


async def mapped_attributes(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    connection_id: uuid.UUID,
    specs: Iterable[tuple[str, str, str, str]],
) -> None:
    """From (attribute type, remote id, source type, source value) specs: each attribute, and the mapping to it."""
    specs = list(specs)
    rows = await attributes(session, tenant_id, connection_id, [(kind, remote, remote) for kind, remote, _, _ in specs])
    session.add_all(
        Mapping(
            tenant_id=tenant_id,
            destination_connection_id=connection_id,
            source_type=source_type,
            source_value=source_value,
            destination_type=attribute_type,
            destination_attribute_id=rows[(attribute_type, remote_id)].id,
        )
        for attribute_type, remote_id, source_type, source_value in specs
    )


def fingerprint(data: dict[str, Any]) -> str:
    """A record's fingerprint is a hash of its data: whatever changes `data` changes it too (as the pull does)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def rewrite(record: SourceRecord, data: dict[str, Any]) -> None:
    """Change a stored record's data as a pull would: with its fingerprint."""
    record.data = data
    record.fingerprint = fingerprint(data)


async def expenses(
    session: AsyncSession, tenant_id: uuid.UUID, source_id: uuid.UUID, items: Iterable[Expense]
) -> dict[str, uuid.UUID]:
    """Store each expense as a source record (kind `expense`); returns expense id → record id."""
    ids = {}
    for item in items:
        data = expense_to_json(item)
        record = SourceRecord(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            connection_id=source_id,
            kind="expense",
            remote_id=item.id,
            parent_remote_id=item.report_id,
            remote_state=item.state,
            data=data,
            fingerprint=fingerprint(data),
        )
        session.add(record)
        ids[item.id] = record.id
    await session.flush()
    return ids


@dataclass(frozen=True)
class World:
    """A tenant with a destination and a source connection (made over the API), attributes and expenses."""

    destination_id: uuid.UUID
    source_id: uuid.UUID
    attributes: dict[tuple[str, str], uuid.UUID]
    records: dict[str, uuid.UUID]


STANDARD_ATTRIBUTES: list[tuple[Any, ...]] = [
    ("account", "6000", "Travel", "6000"),
    ("account", "6100", "Meals", "6100"),
    ("account", "2000", "Accounts payable", "2000"),
    ("expense_type", "ET-TRAVEL", "Travel", "TRV"),
    ("expense_type", "ET-MEALS", "Meals", "MLS"),
    ("employee", "E-ADA", "Ada Lovelace", "E-ADA", True, {"CONTACT.EMAIL1": "ada@example.com"}),
    ("employee", "E-SAM1", "Sam Lee", "E-SAM1", True, {"CONTACT.EMAIL1": "sam.lee@example.com"}),
    ("employee", "E-SAM2", "Sam Lee", "E-SAM2", True, {"CONTACT.EMAIL1": "samuel.lee@example.com"}),
    ("department", "D-RD", "Research"),
    ("location", "L-HQ", "Headquarters"),
    ("location", "L-OLD", "Closed office", "L-OLD", False),
]


async def api_world(
    client: httpx.AsyncClient, database: Database, owner: TenantFixture, items: Iterable[Expense] = ()
) -> World:
    made = {}
    for role, provider in (("destination", "intacct"), ("source", "fyle")):
        response = await client.post(
            "/v1/connections",
            headers=owner.headers,
            json={"name": f"{provider}-{uuid.uuid4().hex[:6]}", "provider": provider, "role": role},
        )
        assert response.status_code == 201, response.text
        made[role] = uuid.UUID(response.json()["id"])
    async with database.tenant_session(owner.id) as session:
        rows = await attributes(session, owner.id, made["destination"], STANDARD_ATTRIBUTES)
        records = await expenses(session, owner.id, made["source"], items)
    return World(made["destination"], made["source"], {key: row.id for key, row in rows.items()}, records)
