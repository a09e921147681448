"""Xero's limits: 60 calls a rolling minute, 5 in flight and 5,000 a day per organisation, 10,000 a minute per
app; 429 with Retry-After and X-Rate-Limit-Problem; the remaining-quota headers on every answer."""

from datetime import UTC, datetime

import httpx

from sandbox.clock import SandboxClock
from sandbox.xero.constants import MAIN_TENANT, UK_TENANT
from sandbox.xero.org_limits import LimitBook, OrgLimits
from tests.sandbox.xero.conftest import Xero


def _limit(xero: Xero, tenant: str = MAIN_TENANT, **limits: object) -> None:
    assert xero.control.put(f"/organisations/{tenant}/limits", json=limits).status_code == 200


def test_headers_count_down(api: httpx.Client) -> None:
    first = api.get("/Organisation").headers
    second = api.get("/Organisation").headers
    assert int(first["X-MinLimit-Remaining"]) == 59 and int(second["X-MinLimit-Remaining"]) == 58
    assert int(first["X-DayLimit-Remaining"]) - int(second["X-DayLimit-Remaining"]) == 1
    assert int(second["X-AppMinLimit-Remaining"]) == 9998


def test_minute_limit_answers_429_with_retry_after(api: httpx.Client, xero: Xero) -> None:
    _limit(xero, per_minute=3)
    statuses = [api.get("/Organisation").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = api.get("/Organisation")
    assert refused.headers["X-Rate-Limit-Problem"] == "minute"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-MinLimit-Remaining"] == "0"
    xero.sandbox.control().put("/clock", json={"advance_seconds": 61})
    assert api.get("/Organisation").status_code == 200


def test_minute_limit_is_per_organisation(xero: Xero) -> None:
    _limit(xero, per_minute=1)
    with xero.api(MAIN_TENANT) as us, xero.api(UK_TENANT) as uk:
        assert us.get("/Organisation").status_code == 200
        assert us.get("/Organisation").status_code == 429
        assert uk.get("/Organisation").status_code == 200


def test_day_limit_waits_until_midnight_utc(xero: Xero) -> None:
    xero.sandbox.control().put("/clock", json={"now": "2026-12-06T23:58:00+00:00"})
    _limit(xero, per_day=2, per_minute=1000)
    with xero.api() as api:
        assert [api.get("/Organisation").status_code for _ in range(2)] == [200, 200]
        refused = api.get("/Organisation")
        assert refused.status_code == 429 and refused.headers["X-Rate-Limit-Problem"] == "day"
        assert 118 <= int(refused.headers["Retry-After"]) <= 120
        assert refused.headers["X-DayLimit-Remaining"] == "0"
        xero.sandbox.control().put("/clock", json={"advance_seconds": 121})
        assert api.get("/Organisation").status_code == 200


def test_app_minute_limit_spans_organisations(xero: Xero) -> None:
    assert xero.control.put("/limits/app", json={"per_minute": 2}).status_code == 200
    with xero.api(MAIN_TENANT) as us, xero.api(UK_TENANT) as uk:
        assert us.get("/Organisation").status_code == 200
        assert uk.get("/Organisation").status_code == 200
        refused = uk.get("/Organisation")
    assert refused.status_code == 429 and refused.headers["X-Rate-Limit-Problem"] == "appminute"


def test_limits_can_be_switched_off(api: httpx.Client, xero: Xero) -> None:
    _limit(xero, enabled=False, per_minute=1)
    assert {api.get("/Organisation").status_code for _ in range(5)} == {200}


def test_concurrent_limit_counts_requests_in_flight() -> None:
    """In-flight requests cannot be held open over loopback without a slow handler, so the book is driven
    directly: the sixth concurrent call is refused with `concurrent`, and a release admits the next."""
    clock = SandboxClock()
    clock.set(datetime(2026, 12, 6, 12, tzinfo=UTC))
    book = LimitBook(clock)
    book.limits[MAIN_TENANT] = OrgLimits(concurrent=5)
    assert all(book.try_acquire(MAIN_TENANT, "app") is None for _ in range(5))
    refusal = book.try_acquire(MAIN_TENANT, "app")
    assert refusal is not None and refusal.problem == "concurrent" and refusal.retry_after == 1
    book.release(MAIN_TENANT)
    assert book.try_acquire(MAIN_TENANT, "app") is None


def test_injected_rate_limit_fault_speaks_xero(api: httpx.Client, xero: Xero) -> None:
    xero.sandbox.control().post(
        "/faults", json={"system": "xero", "operation": "GET Contacts", "mode": "rate_limit", "retry_after": 7}
    )
    refused = api.get("/Contacts")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "7"
    assert refused.headers["X-Rate-Limit-Problem"] == "minute"
    assert api.get("/Accounts").status_code == 200
