"""`POST /v1/items/{id}/export-again` over HTTP: confirmed, reasoned, only for items needing action, tenant-scoped,
idempotent per `Idempotency-Key`, and described in the OpenAPI document."""

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from core.db import Database
from core.models import AuditEvent, ExportItem
from tests.api.test_replays import _support_headers
from tests.conftest import TenantFixture
from tests.sync.test_replay import failed_items

CONFIRMED = {"confirm_duplicate_risk": True, "reason": "the bill was deleted in Intacct to be corrected"}
PATH = "/v1/items/{}/export-again"


async def _key(database: Database, tenant: TenantFixture, item_id: object) -> str | None:
    async with database.tenant_session(tenant.id) as session:
        key: str | None = await session.scalar(select(ExportItem.idempotency_key).where(ExportItem.id == item_id))
    return key


async def test_an_admin_exports_an_item_again_under_a_new_key_and_it_is_audited(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    _, (item_id,) = await failed_items(database, tenant, 1)
    old_key = await _key(database, tenant, item_id)
    answered = await client.post(PATH.format(item_id), json=CONFIRMED, headers=tenant.headers)
    assert answered.status_code == 200, answered.text
    body = answered.json()
    assert body["state"] == "pending" and body["outcome_unknown"] is False
    assert body["idempotency_key"] not in (None, old_key)
    assert body["idempotency_key"] == await _key(database, tenant, item_id)
    history = (await client.get(f"/v1/export-items/{item_id}", headers=tenant.headers)).json()["audit_events"]
    [event] = [event for event in history if event["data"].get("new_key")]
    assert event["data"]["previous_key"] == old_key
    assert event["data"]["stated_reason"] == CONFIRMED["reason"]
    assert "may still exist in the destination" in event["data"]["confirmed_duplicate_risk"]

    again = await client.post(PATH.format(item_id), json=CONFIRMED, headers=tenant.headers)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["state"] == "pending"
    assert "cannot be exported again" in again.json()["detail"] and "already pending" in again.json()["detail"]


async def test_without_confirming_the_duplicate_risk_nothing_changes_and_the_problem_says_why(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    _, (item_id,) = await failed_items(database, tenant, 1)
    old_key = await _key(database, tenant, item_id)
    unconfirmed = await client.post(
        PATH.format(item_id), json={**CONFIRMED, "confirm_duplicate_risk": False}, headers=tenant.headers
    )
    assert unconfirmed.status_code == 422
    assert unconfirmed.headers["content-type"] == "application/problem+json"
    assert unconfirmed.json()["type"].endswith("/duplicate-risk-not-confirmed")
    assert "second one" in unconfirmed.json()["detail"]
    missing = await client.post(PATH.format(item_id), json={"reason": "x"}, headers=tenant.headers)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "confirm_duplicate_risk"
    blank = await client.post(PATH.format(item_id), json={**CONFIRMED, "reason": "  "}, headers=tenant.headers)
    assert blank.status_code == 422 and "Say why" in blank.json()["detail"]
    assert await _key(database, tenant, item_id) == old_key
    detail = (await client.get(f"/v1/export-items/{item_id}", headers=tenant.headers)).json()
    assert detail["item"]["state"] == "needs_action"


async def test_support_exports_any_tenants_item_again_and_an_admin_cannot_touch_another_tenants(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    _, (theirs,) = await failed_items(database, other_tenant, 1)
    old_key = await _key(database, other_tenant, theirs)
    refused = await client.post(PATH.format(theirs), json=CONFIRMED, headers=tenant.headers)
    assert refused.status_code == 404
    assert await _key(database, other_tenant, theirs) == old_key
    support = await _support_headers(database)
    done = await client.post(PATH.format(theirs), json=CONFIRMED, headers=support)
    assert done.status_code == 200, done.text
    assert done.json()["idempotency_key"] != old_key
    async with database.tenant_session(other_tenant.id) as session:
        actors = (
            await session.scalars(
                select(AuditEvent.actor).where(
                    AuditEvent.entity_id == str(theirs), AuditEvent.action == "export_item.pending"
                )
            )
        ).all()
    assert len(actors) == 1 and actors[0].startswith("api_key:")


async def test_a_retried_request_with_the_same_idempotency_key_gets_the_first_answer_and_mints_one_key(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    _, (item_id,) = await failed_items(database, tenant, 1)
    headers = {**tenant.headers, "Idempotency-Key": "export-again-1"}
    first = await client.post(PATH.format(item_id), json=CONFIRMED, headers=headers)
    second = await client.post(PATH.format(item_id), json=CONFIRMED, headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.headers.get("idempotent-replayed") == "true"
    assert second.json()["idempotency_key"] == first.json()["idempotency_key"]
    assert await _key(database, tenant, item_id) == first.json()["idempotency_key"]


def test_the_openapi_document_describes_the_confirmation_and_the_problems(app: FastAPI) -> None:
    operation = app.openapi()["paths"]["/v1/items/{export_item_id}/export-again"]["post"]
    assert {"404", "409", "422"} <= set(operation["responses"])
    assert "application/problem+json" in operation["responses"]["409"]["content"]
    schema_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = app.openapi()["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert set(body["required"]) == {"confirm_duplicate_risk", "reason"}
    assert "second one" in body["properties"]["confirm_duplicate_risk"]["description"]
