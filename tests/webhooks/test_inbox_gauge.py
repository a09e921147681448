"""The inbox is counted by one delivery at a time: when a count is due, the others keep the last answer (and the
one-trip path) while it counts."""

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.conftest import TenantFixture
from tests.webhooks.ingress_support import deliver, ingress, webhook_target
from webhooks import ingress as ingress_module
from webhooks.inbox_gauge import InboxGauge
from webhooks.ingress import WebhookIngress

__all__ = ["ingress"]  # the fixture, imported so pytest finds it


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_due_count_goes_to_one_caller_and_the_others_keep_the_last_answer() -> None:
    clock, connection_id = Clock(), uuid.uuid4()
    gauge = InboxGauge(clock=clock)
    assert gauge.known_full(connection_id) is None, "never counted"
    gauge.record(connection_id, full=False, fresh_for_seconds=1.0)
    assert gauge.known_full(connection_id) is False
    clock.now += 1.0
    assert gauge.known_full(connection_id) is None, "this caller counts"
    assert gauge.known_full(connection_id) is False, "the others keep the last answer meanwhile"
    clock.now += 1.0
    assert gauge.known_full(connection_id) is None, "the counter never reported back: the next caller counts"
    gauge.record(connection_id, full=True, fresh_for_seconds=1.0)
    assert gauge.known_full(connection_id) is True


async def test_deliveries_arriving_while_the_inbox_is_counted_are_stored_in_one_trip_without_counting(
    client: httpx.AsyncClient, tenant: TenantFixture, ingress: WebhookIngress, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = await webhook_target(client, tenant)
    clock = Clock()
    monkeypatch.setattr(ingress, "inbox", InboxGauge(clock=clock))
    calls: Counter[str] = Counter()
    for name in ("begin_find_and_scope", "inbox_depth"):
        monkeypatch.setattr(ingress_module, name, _counted(calls, name, getattr(ingress_module, name)))
    assert (await deliver(client, target)).status_code == 202  # looked up, counted, remembered
    clock.now += ingress.limits.inbox_check_every_seconds
    answers = await asyncio.gather(*(deliver(client, target) for _ in range(5)))
    assert [answer.status_code for answer in answers] == [202] * 5
    # The first delivery, then one of the five: the other four kept the remembered lookup.
    assert calls == {"begin_find_and_scope": 2, "inbox_depth": 2}


def _counted(calls: Counter[str], name: str, function: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls[name] += 1
        return await function(*args, **kwargs)

    return counted
