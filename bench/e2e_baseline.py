"""The end-to-end baseline: the same HTTP calls and inserts as a product run, without the engine.

Plain httpx and psycopg, one coroutine, no queue, no leases, no audit, no mappings:
1. log in to Intacct (`getAPISession`);
2. page through the Fyle expenses exactly as the connector does (keyset on `updated_at`, 200 a page) and insert each
   page into a plain table, one transaction per page;
3. read the exportable ones back (reimbursable, in an exportable state) and group them per report;
4. create one bill per report, 50 `create` functions per request (the connector's `batch_size`), each bill's XML
   from the connector's own `document_body`; then read the new bills' `RECORD_URL`s in one request per batch, as
   the connector does; insert the outcomes;
5. post the export summaries to Fyle, 200 per request.
"""

import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import Element

import httpx
import psycopg
from psycopg.types.json import Jsonb

from connectors.fyle.constants import EXPORT_SUMMARY_PATH, LIST_ORDER
from connectors.fyle.records import keyset_token, parse_keyset, since_filter
from connectors.intacct.connector import IntacctConnector
from connectors.intacct.documents import document_body
from connectors.intacct.envelope import Function, Sender, build_request, login, parse_reply, session
from connectors.intacct.reads import read_keys
from core.domain import Document, DocumentKind, DocumentLine
from mappings.constants import DEFAULT_EXPORTABLE_STATES
from sandbox.intacct.constants import SENDER_ID, SENDER_PASSWORD, SINGLE_ENTITY_COMPANY, USER_ID, USER_PASSWORD

GATEWAY = "/intacct/ia/xml/xmlgw.phtml"
FYLE_API = "/fyle/platform/v1"
FYLE_PAGE = 200
FYLE_WRITE_BATCH = 200
INTACCT_BATCH = IntacctConnector.spec.batch_size
SENDER = Sender(SENDER_ID, SENDER_PASSWORD)
TABLES = """
CREATE TABLE IF NOT EXISTS bench_expenses (
    remote_id text PRIMARY KEY, report_id text, state text, updated_at timestamptz, data jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS bench_documents (reference text PRIMARY KEY, remote_id text, url text);
"""


@dataclass
class BaselineReport:
    seconds: float = 0.0
    expenses: int = 0
    exported_expenses: int = 0
    documents: int = 0
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds from the start at which each step ended, named like the product's run phases."""


def _intacct_login() -> Element:
    return login(user_id=USER_ID, company_id=SINGLE_ENTITY_COMPANY, password=USER_PASSWORD, entity_id="")


async def _gateway(client: httpx.AsyncClient, authentication: Element, functions: list[Function]) -> Any:
    body = build_request(sender=SENDER, control_id=uuid.uuid4().hex, authentication=authentication, functions=functions)
    response = await client.post(GATEWAY, content=body, headers={"Content-Type": "x-intacct-xml-request"})
    response.raise_for_status()
    return parse_reply(response.content)


def _bill(reference: str, rows: list[dict[str, Any]], account: str, vendor: str) -> Document:
    return Document(
        kind=DocumentKind.BILL,
        reference=reference,
        transaction_date=max(date.fromisoformat(row["spent_at"][:10]) for row in rows),
        currency=rows[0]["currency"],
        counterparty=vendor,
        lines=tuple(
            DocumentLine(amount=Decimal(str(row["amount"])), account=account, description=row.get("purpose"))
            for row in rows
        ),
    )


async def run_baseline(
    sandbox_url: str, database_url: str, *, fyle_token: str, account: str, vendor: str
) -> BaselineReport:
    report = BaselineReport()
    headers = {"Authorization": f"Bearer {fyle_token}"}
    async with (
        await psycopg.AsyncConnection.connect(database_url.replace("+psycopg", "")) as db,
        httpx.AsyncClient(base_url=sandbox_url, timeout=60) as client,
    ):
        async with db.transaction():
            await db.execute(TABLES)
        started = time.perf_counter()

        reply = await _gateway(client, _intacct_login(), [Function(uuid.uuid4().hex, Element("getAPISession"))])
        report.calls["intacct"] += 1
        session_id = (reply.results[0].element.findtext("data/api/sessionid") or "").strip()
        authentication = session(session_id)

        token: str | None = None
        while True:
            boundary, skipped = parse_keyset(token) if token else (None, 0)
            params: dict[str, Any] = {"order": LIST_ORDER, "offset": skipped, "limit": FYLE_PAGE}
            if boundary is not None:
                params["updated_at"] = since_filter(boundary)
            answer = await client.get(f"{FYLE_API}/admin/expenses", params=params, headers=headers)
            report.calls["fyle"] += 1
            answer.raise_for_status()
            records = answer.json()["data"]
            async with db.transaction(), db.cursor() as cursor:
                await cursor.executemany(
                    "INSERT INTO bench_expenses (remote_id, report_id, state, updated_at, data)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (remote_id) DO UPDATE SET data = excluded.data,"
                    " state = excluded.state, updated_at = excluded.updated_at",
                    [
                        (
                            row["id"],
                            row.get("report_id"),
                            row["state"],
                            datetime.fromisoformat(row["updated_at"]),
                            Jsonb(row),
                        )
                        for row in records
                    ],
                )
            report.expenses += len(records)
            token = keyset_token(records, boundary=boundary, skipped=skipped, limit=FYLE_PAGE)
            if token is None:
                break
        report.phases["pull"] = round(time.perf_counter() - started, 2)

        reports: dict[str, list[dict[str, Any]]] = defaultdict(list)
        cursor = await db.execute(
            "SELECT data FROM bench_expenses WHERE state = ANY(%s) AND report_id IS NOT NULL"
            " AND (data->>'is_reimbursable')::boolean ORDER BY remote_id",
            [list(DEFAULT_EXPORTABLE_STATES)],
        )
        for (data,) in await cursor.fetchall():
            reports[data["report_id"]].append(data)
        documents = [(_bill(uuid.uuid4().hex, rows, account, vendor), rows) for _, rows in sorted(reports.items())]
        report.phases["group"] = round(time.perf_counter() - started, 2)

        summaries: list[dict[str, Any]] = []
        for start in range(0, len(documents), INTACCT_BATCH):
            chunk = documents[start : start + INTACCT_BATCH]
            functions = [Function(document.reference, document_body(document, None)) for document, _ in chunk]
            created = await _gateway(client, authentication, functions)
            report.calls["intacct"] += 1
            keys = [result.key for result in created.results if result.ok]
            read = Function(uuid.uuid4().hex, read_keys("APBILL", ("RECORDNO", "RECORD_URL"), keys))
            urls = {
                row["RECORDNO"]: row.get("RECORD_URL")
                for row in (await _gateway(client, authentication, [read])).results[0].rows()
            }
            report.calls["intacct"] += 1
            outcomes = [
                (document.reference, result.key if result.ok else None, urls.get(result.key) if result.ok else None)
                for (document, _), result in zip(chunk, created.results, strict=True)
            ]
            async with db.transaction(), db.cursor() as cursor:
                await cursor.executemany(
                    "INSERT INTO bench_documents (reference, remote_id, url) VALUES (%s, %s, %s)", outcomes
                )
            for (_, rows), (_, remote_id, url) in zip(chunk, outcomes, strict=True):
                if remote_id is not None:
                    report.documents += 1
                    summaries.extend(
                        {"id": row["id"], "state": "COMPLETE", "error_type": None, "url": url or ""} for row in rows
                    )
        report.exported_expenses = len(summaries)
        report.phases["export"] = round(time.perf_counter() - started, 2)

        for start in range(0, len(summaries), FYLE_WRITE_BATCH):
            answer = await client.post(
                f"{FYLE_API}{EXPORT_SUMMARY_PATH}",
                json={"data": summaries[start : start + FYLE_WRITE_BATCH]},
                headers=headers,
            )
            report.calls["fyle"] += 1
            answer.raise_for_status()
        report.seconds = time.perf_counter() - started
        report.phases["write_back"] = round(report.seconds, 2)
    return report
