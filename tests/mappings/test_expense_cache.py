"""The decoded-expense cache: a hit skips the record's JSON, a changed record (a new fingerprint) is read again,
and the cache never holds more than its capacity."""

from dataclasses import replace
from decimal import Decimal

import pytest

from core.db import Database
from core.models import SourceRecord
from core.repository import TenantRepository
from mappings import expense_cache, expense_to_json, source_expenses
from mappings.expense_cache import ExpenseCache
from mappings.source_expenses import load_open_expenses
from tests.conftest import TenantFixture
from tests.mappings import seed
from tests.mappings.factories import expense


def test_the_least_recently_used_entry_goes_first() -> None:
    cache = ExpenseCache(capacity=2)
    first, second, third = (expense(id=name) for name in ("a", "b", "c"))
    cache.put("fa", first)
    cache.put("fb", second)
    assert cache.get("fa") == first  # now the most recently used
    cache.put("fc", third)
    assert len(cache) == 2
    assert (cache.get("fa"), cache.get("fb"), cache.get("fc")) == (first, None, third)


async def test_a_cached_expense_is_not_decoded_again_and_a_changed_one_is(
    database: Database, tenant: TenantFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(expense_cache, "EXPENSES", ExpenseCache(capacity=10))
    monkeypatch.setattr(source_expenses, "EXPENSES", expense_cache.EXPENSES)
    decoded: list[str] = []
    decode = source_expenses.expense_from_json
    monkeypatch.setattr(source_expenses, "expense_from_json", lambda data: decoded.append(data["id"]) or decode(data))
    original = expense(id="a", amount=Decimal("5.00"))
    async with database.tenant_session(tenant.id) as session:
        source = await seed.connection(session, tenant.id, role="source")
        records = await seed.expenses(session, tenant.id, source.id, [original, expense(id="b")])

    async def load() -> dict[str, Decimal]:
        async with database.tenant_session(tenant.id) as session:
            loaded = await load_open_expenses(TenantRepository(session, tenant.id, "test"), [])
        return {found.expense.id: found.expense.amount for found in loaded if found.expense is not None}

    assert await load() == {"a": Decimal("5.00"), "b": expense(id="b").amount}
    assert sorted(decoded) == ["a", "b"]

    decoded.clear()
    assert (await load())["a"] == Decimal("5.00")
    assert decoded == []  # both from the cache

    async with database.tenant_session(tenant.id) as session:
        record = await session.get(SourceRecord, records["a"])
        assert record is not None
        seed.rewrite(record, expense_to_json(replace(original, amount=Decimal("7.25"))))
    assert (await load())["a"] == Decimal("7.25")
    assert decoded == ["a"]  # only the changed record
