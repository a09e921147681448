"""Real arq workers as processes: everything is exported exactly once even when Redis forgets every job."""

import asyncio
import json
import signal
import subprocess
import time
from pathlib import Path

import redis
from sqlalchemy import func, select

from core.db import Database
from core.models import ExportItem
from core.settings import Settings
from tests.conftest import LEDGERLINE_CLI, REDIS_URL, settings_env
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.conftest import Books, sandbox_settings

EXPORT_DEADLINE_SECONDS = 90


def worker_env(settings: Settings, sandbox: RunningSandbox) -> dict[str, str]:
    configured = sandbox_settings(settings, sandbox)
    apps = {system: configured.connector_app(system) for system in configured.connector_apps}
    return {
        **settings_env(configured),
        "LEDGERLINE_SANDBOX_URL": sandbox.url,
        "LEDGERLINE_CONNECTOR_APPS": json.dumps(apps),
    }


async def states(database: Database, books: Books) -> dict[str, int]:
    async with database.tenant_session(books.tenant.id) as session:
        rows = await session.execute(select(ExportItem.state, func.count()).group_by(ExportItem.state))
        return {state: count for state, count in rows.all()}


def bills(sandbox: RunningSandbox) -> list[str]:
    with sandbox.control() as control:
        documents = control.get("/intacct/documents", params={"object": "APBILL"}).json()["data"]
    return [document["RECORDID"] for document in documents]


async def test_workers_export_everything_once_although_redis_is_flushed(
    database: Database, books: Books, settings: Settings, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    await books.add_reports(database, 57)  # 60 bills in all
    env = worker_env(settings, sandbox)
    logs = [tmp_path / f"worker{index}.log" for index in range(2)]
    workers = [
        subprocess.Popen(  # noqa: ASYNC220 - starting real worker processes is the point of the test
            [LEDGERLINE_CLI, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=log.open("w")
        )
        for log in logs
    ]
    client = redis.Redis.from_url(REDIS_URL)
    try:
        flushed = 0
        deadline = time.monotonic() + EXPORT_DEADLINE_SECONDS
        while time.monotonic() < deadline:
            current = await states(database, books)
            if current.get("succeeded", 0) > 0 and flushed == 0:
                client.flushdb()  # every queued job and arq's bookkeeping are gone mid-run
                flushed += 1
            if current == {"succeeded": 60}:
                break
            await asyncio.sleep(0.25)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        codes = [worker.wait(timeout=60) for worker in workers]
        client.close()
    outputs = [log.read_text()[-3000:] for log in logs]
    assert flushed == 1
    assert codes == [0, 0], outputs
    assert await states(database, books) == {"succeeded": 60}, outputs
    async with database.tenant_session(books.tenant.id) as session:
        references = set((await session.scalars(select(ExportItem.idempotency_key))).all())
    # The workers serve every tenant of the database; count only this tenant's bills, each exactly once.
    exported = [reference for reference in bills(sandbox) if reference in references]
    assert sorted(exported) == sorted(references)
