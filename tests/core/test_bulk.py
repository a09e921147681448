"""`core.bulk`: `insert_rows` delivers every column kind exactly (JSON None as SQL NULL, awkward text intact);
`among` selects what `IN` would."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table, Text, select, text
from sqlalchemy.dialects.postgresql import JSONB, UUID

from core.bulk import among, insert_rows
from core.db import Database
from core.models import Connection
from tests.conftest import TenantFixture
from tests.mappings.seed import connection as add_connection_row

SAMPLES = Table(
    "bulk_samples",
    MetaData(),
    Column("id", UUID(as_uuid=True)),
    Column("label", String(40)),
    Column("note", Text),
    Column("count", Integer),
    Column("flag", Boolean),
    Column("at", DateTime(timezone=True)),
    Column("doc", JSONB),
)

AWKWARD = ["a,b", "{braced}", 'quote " and \\ backslash', "new\nline", "", "NULL", "ünïcode ✓"]


async def test_every_column_kind_and_awkward_text_arrive_exactly(database: Database) -> None:
    moment = datetime(2026, 11, 21, 18, 30, 5, 123456, tzinfo=UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "label": f"row {index}",
            "note": note,
            "count": index,
            "flag": index % 2 == 0,
            "at": moment,
            "doc": {"text": note, "list": [1, "two", None], "nested": {"ok": True}},
        }
        for index, note in enumerate(AWKWARD)
    ]
    rows.append({**rows[0], "id": uuid.uuid4(), "label": None, "note": None, "count": None, "doc": None})

    async with database.owner_session() as session:
        await session.execute(
            text(
                "CREATE TEMP TABLE bulk_samples (id uuid, label varchar(40), note text, count integer, flag boolean,"
                " at timestamptz, doc jsonb) ON COMMIT DROP"
            )
        )
        await insert_rows(session, SAMPLES, rows)
        stored = (
            await session.execute(
                text("SELECT id, label, note, count, flag, at, doc, doc IS NULL AS sql_null FROM bulk_samples")
            )
        ).all()

    by_id = {row.id: row for row in stored}
    assert len(by_id) == len(rows)
    for row in rows:
        found = by_id[row["id"]]
        assert (found.label, found.note, found.count, found.flag, found.at, found.doc) == (
            row["label"],
            row["note"],
            row["count"],
            row["flag"],
            row["at"],
            row["doc"],
        )
        assert found.sql_null is (row["doc"] is None)  # None is SQL NULL, not JSON null


async def test_no_rows_sends_nothing(database: Database) -> None:
    async with database.owner_session() as session:
        await insert_rows(session, SAMPLES, [])  # the table does not even exist: nothing may reach the database


async def test_among_matches_like_in_for_any_count_including_none(database: Database, tenant: TenantFixture) -> None:
    """`among` is `IN` with one array parameter: the same rows for zero, one and many values, of text and uuid."""
    async with database.tenant_session(tenant.id) as session:
        ids = [
            await add_connection_row(session, tenant.id, role="destination", name=f"Books {index}")
            for index in range(3)
        ]
        for wanted in ([], ids[:1], ids):
            by_id = select(Connection.id).where(among(Connection.id, [row.id for row in wanted]))
            by_name = select(Connection.id).where(among(Connection.name, [row.name for row in wanted]))
            expected = {row.id for row in wanted}
            assert set((await session.scalars(by_id)).all()) == expected
            assert set((await session.scalars(by_name)).all()) == expected
