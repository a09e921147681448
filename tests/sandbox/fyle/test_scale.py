"""A large organisation: 20,000 generated expenses, paged through incrementally, none lost or repeated.

Each page is answered by bisecting the (updated_at, id) index, so the cost of a page does not grow with the
number of expenses; the test asserts what was returned, not how long it took.
"""

import httpx

from sandbox.fyle.constants import MAX_PAGE_LIMIT
from tests.sandbox.fyle.conftest import Fyle

GENERATED = 20_000


def _page(api: httpx.Client, offset: int) -> tuple[int, list[str]]:
    """The count and the ids of one page; the parsed page is dropped at once, as a streaming consumer would."""
    params = {"updated_at": "gte.2000-01-01T00:00:00.000Z", "order": "updated_at.asc,id.asc"}
    body = api.get("/expenses", params=params | {"offset": offset, "limit": MAX_PAGE_LIMIT}).json()
    return body["count"], [expense["id"] for expense in body["data"]]


def test_generated_expenses_page_through_completely_and_once(fyle: Fyle, api: httpx.Client) -> None:
    seeded = api.get("/expenses", params={"limit": 1}).json()["count"]

    generated = fyle.control.post("/fyle/generate", json={"expenses": GENERATED}, timeout=120)

    assert generated.status_code == 200
    assert generated.json()["generated"] == GENERATED
    total = seeded + GENERATED
    assert fyle.control.get("/fyle/counts").json()["expenses"] == total
    seen: set[str] = set()
    offset = 0
    while True:
        count, ids = _page(api, offset)
        assert count == total
        seen.update(ids)
        offset += len(ids)
        if len(ids) < MAX_PAGE_LIMIT:
            break
    assert offset == len(seen) == total


def test_generated_expenses_can_be_unreported_or_in_a_chosen_state(fyle: Fyle, api: httpx.Client) -> None:
    unreported = fyle.control.post("/fyle/generate", json={"expenses": 30, "state": "COMPLETE"})
    approved = fyle.control.post("/fyle/generate", json={"expenses": 30, "state": "APPROVED", "per_report": 10})
    refused = fyle.control.post("/fyle/generate", json={"expenses": 1, "state": "LOST"})

    assert unreported.status_code == approved.status_code == 200 and refused.status_code == 422
    newest = api.get("/expenses", params={"order": "created_at.desc", "limit": 200}).json()["data"]
    assert {expense["state"] for expense in newest} >= {"COMPLETE", "APPROVED"}
