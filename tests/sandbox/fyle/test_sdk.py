"""Fyle's own Python SDK (`fyle.platform`) works against the simulator with nothing changed but its two URLs."""

import base64
from typing import Any

import httpx
import pytest
from fyle.platform import Platform

from sandbox.fyle.constants import (
    DEFAULT_PAGE_LIMIT,
    FYLE_SANDBOX_CLIENT_ID,
    FYLE_SANDBOX_CLIENT_SECRET,
    FYLE_SANDBOX_REFRESH_TOKEN,
)
from tests.sandbox.fyle.conftest import Fyle


@pytest.fixture
def platform(fyle: Fyle) -> Platform:
    return Platform(
        server_url=f"{fyle.base}/platform/v1",
        token_url=f"{fyle.base}/oauth/token",
        client_id=FYLE_SANDBOX_CLIENT_ID,
        client_secret=FYLE_SANDBOX_CLIENT_SECRET,
        refresh_token=FYLE_SANDBOX_REFRESH_TOKEN,
    )


def test_sdk_gets_a_token_and_lists_every_expense_across_pages(platform: Platform) -> None:
    query = {"order": "updated_at.asc,id.asc", "updated_at": "gte.2000-01-01T00:00:00.000Z"}

    pages: list[dict[str, Any]] = list(platform.v1.admin.expenses.list_all(query))

    total = pages[0]["count"]
    ids = [expense["id"] for page in pages for expense in page["data"]]
    assert len(pages) == -(-total // DEFAULT_PAGE_LIMIT) > 1
    assert len(ids) == len(set(ids)) == total


def test_sdk_posts_categories_in_bulk_and_lists_them(platform: Platform) -> None:
    categories = platform.v1.admin.categories
    payload = {
        "data": [{"name": "Ledgerline Travel", "code": "LL-100"}, {"name": "Ledgerline Meals", "code": "LL-200"}]
    }

    categories.post_bulk(payload)

    listed = categories.list({"offset": 0, "limit": 10, "order": "id.asc", "name": "ilike.Ledgerline*"})
    assert {(category["name"], category["code"], category["is_enabled"]) for category in listed["data"]} == {
        ("Ledgerline Travel", "LL-100", True),
        ("Ledgerline Meals", "LL-200", True),
    }


def test_sdk_write_backs_reach_the_simulator(platform: Platform) -> None:
    expenses = platform.v1.admin.expenses
    [report_expense] = expenses.list({"offset": 0, "limit": 1, "order": "id.asc", "state": "eq.PAYMENT_PROCESSING"})[
        "data"
    ]
    summary = {"id": report_expense["id"], "state": "COMPLETE", "error_type": None, "url": "https://ll.example/x"}

    expenses.post_bulk_accounting_export_summary({"data": [summary]})
    platform.v1.admin.reports.bulk_mark_as_paid({"data": [{"id": report_expense["report_id"]}]})

    after = expenses.get_by_id(report_expense["id"])["data"]
    assert after["state"] == "PAID"
    assert after["accounting_export_summary"]["state"] == "COMPLETE"
    assert after["accounting_export_summary"]["tpa_id"] == FYLE_SANDBOX_CLIENT_ID


def test_sdk_creates_a_file_and_uploads_its_bytes(platform: Platform) -> None:
    files = platform.v1.admin.files
    [employee] = platform.v1.admin.employees.list({"offset": 0, "limit": 1, "order": "id.asc"})["data"]
    created = files.create_file(
        {"data": {"name": "invoice.pdf", "type": "INTEGRATION", "user_id": employee["user_id"]}}
    )

    [urls] = files.bulk_generate_file_urls({"data": [{"id": created["data"]["id"]}]})["data"]
    files.upload_file_to_aws("application/pdf", base64.b64encode(b"%PDF-1.4 ledgerline").decode(), urls["upload_url"])

    downloaded = httpx.get(urls["download_url"])
    assert downloaded.content == b"%PDF-1.4 ledgerline"
    assert downloaded.headers["content-type"] == "application/pdf"
