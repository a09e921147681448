"""The chaos run's counters can fail: fed a real simulator holding a bill sent twice, an expense in two bills and
expenses never sent, and a real inbox missing acknowledged events, they report each one."""

import httpx

from bench.destinations import INTACCT_DESTINATION
from bench.e2e_setup import fyle_grant, fyle_listing
from bench.sandbox_capacity import GATEWAY, intacct_envelope, intacct_session
from chaos.counting import exportable, lost_webhooks, tally_sandbox
from core.db import Database
from core.models import WebhookEvent
from tests.conftest import TenantFixture
from tests.mappings.seed import connection as add_connection_row
from tests.sandbox_fixtures import RunningSandbox


def send_bill(url: str, session_id: str, reference: str, expense_ids: list[str]) -> None:
    """A bill whose lines name their expenses, as the chaos tenant's memo template makes them."""
    lines = "".join(
        f"<APBILLITEM><ACCOUNTNO>70004</ACCOUNTNO><TRX_AMOUNT>1.00</TRX_AMOUNT>"
        f"<ENTRYDESCRIPTION>{expense_id}</ENTRYDESCRIPTION></APBILLITEM>"
        for expense_id in expense_ids
    )
    function = (
        f"<create><APBILL><VENDORID>V00004</VENDORID><RECORDID>{reference}</RECORDID><WHENCREATED>03/01/2024"
        f"</WHENCREATED><WHENDUE>03/31/2024</WHENDUE><APBILLITEMS>{lines}</APBILLITEMS></APBILL></create>"
    )
    answer = httpx.post(f"{url}{GATEWAY}", content=intacct_envelope(function, session_id), timeout=30)
    assert "<status>success</status>" in answer.text, answer.text


async def test_the_counters_see_a_duplicate_a_shared_expense_and_the_missing_ones(sandbox: RunningSandbox) -> None:
    tokens, _ = fyle_grant(sandbox.url)
    wanted = [row["id"] for row in fyle_listing(sandbox.url, tokens["access_token"], "expenses") if exportable(row)]
    assert len(wanted) > 10
    session_id = intacct_session(sandbox.url)
    send_bill(sandbox.url, session_id, "chaos-1", wanted[:-3])
    clean = await tally_sandbox(sandbox.url, INTACCT_DESTINATION)
    assert (clean.expenses, clean.documents, clean.duplicates, clean.missing) == (len(wanted), 1, 0, 3)

    send_bill(sandbox.url, session_id, "chaos-1", wanted[:2])  # the same reference again: one bill too many
    send_bill(sandbox.url, session_id, "chaos-2", [wanted[5]])  # an expense already in chaos-1
    broken = await tally_sandbox(sandbox.url, INTACCT_DESTINATION)
    assert (broken.documents, broken.duplicates, broken.missing) == (3, 2, 3)


async def test_acknowledged_webhooks_not_processed_are_lost(database: Database, tenant: TenantFixture) -> None:
    async with database.tenant_session(tenant.id) as session:
        connection_id = (await add_connection_row(session, tenant.id, role="source")).id
        for event_id, state in (("processed-1", "processed"), ("received-1", "received"), ("failed-1", "failed")):
            session.add(
                WebhookEvent(
                    tenant_id=tenant.id,
                    connection_id=connection_id,
                    provider="fyle",
                    event_id=event_id,
                    payload={},
                    state=state,
                )
            )
    acknowledged = ["processed-1", "received-1", "failed-1", "never-stored"]
    lost = await lost_webhooks(database, tenant_id=tenant.id, connection_id=connection_id, acknowledged=acknowledged)
    assert lost == 3
    none_lost = await lost_webhooks(
        database, tenant_id=tenant.id, connection_id=connection_id, acknowledged=["processed-1"]
    )
    assert none_lost == 0
