"""PostgreSQL failures under the workers: their backends terminated again and again, aimed at open transactions
(tests/sync/test_database_blips.py at run size), and the whole server restarted mid-export. The workers are not told:
they must notice, reconnect (`pool_pre_ping`) and carry on, with jobs cut short returned by their leases."""

import asyncio
import subprocess
import time
import uuid
from pathlib import Path

from sqlalchemy import text

from chaos.constants import (
    BLIP_AIM_SECONDS,
    BLIPS,
    EXPENSES,
    PG_RESTART_TIMEOUT_SECONDS,
    WORKER_APPLICATION_NAME,
    WORKER_START_SECONDS,
    WORKERS,
)
from chaos.scenario import Injected, Options, Scenario
from chaos.world import World

WORKER_BACKENDS = " FROM pg_stat_activity WHERE datname = current_database() AND application_name = :name"
IN_TRANSACTION = text("SELECT count(*)" + WORKER_BACKENDS + " AND state IN ('active', 'idle in transaction')")
TERMINATE = text("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))" + WORKER_BACKENDS)
"""The workers' backends only, told apart by the application name their environment sets (PGAPPNAME)."""
CLUSTERS = Path("/etc/postgresql")


def application_name(world: World) -> str:
    return world.env["PGAPPNAME"]


async def _blip(world: World, *, aim_seconds: float) -> int:
    """Terminate every backend of the workers, as soon as one is inside a transaction if that happens soon."""
    aim = time.monotonic() + aim_seconds
    while time.monotonic() < aim:
        async with world.database.owner_session() as session:
            if await session.scalar(IN_TRANSACTION, {"name": application_name(world)}):
                break
        await asyncio.sleep(0.02)
    async with world.database.owner_session() as session:
        return int(await session.scalar(TERMINATE, {"name": application_name(world)}) or 0)


async def terminate(world: World, options: Options) -> Injected:
    await world.start_workers(WORKERS)
    await world.start_run()
    terminated = []
    for blip in range(BLIPS):
        terminated.append(await _blip(world, aim_seconds=WORKER_START_SECONDS if blip == 0 else BLIP_AIM_SECONDS))
    fault_end = time.monotonic()
    at_last_blip = await world.progress()
    recovery = await world.recover(fault_end)
    problems = [] if sum(terminated) else ["no backend was terminated"]
    if at_last_blip.done:
        problems.append("the work was over before the blips were")
    problems += [f"worker {index} died" for index, worker in enumerate(world.workers) if worker.poll() is not None]
    return Injected(
        recovery,
        {"blips": BLIPS, "terminated": terminated, "succeeded_at_last_blip": at_last_blip.succeeded},
        problems=problems,
    )


def restart_server() -> None:
    """`pg_ctlcluster … restart` of the one local cluster: every connection of every process is cut."""
    [version] = [path.name for path in CLUSTERS.iterdir() if path.is_dir()]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        timeout=PG_RESTART_TIMEOUT_SECONDS,
    )


async def restart(world: World, options: Options) -> Injected:
    await world.start_workers(WORKERS)
    await world.start_run()
    before = await world.wait_for_export()
    started = time.monotonic()
    await asyncio.to_thread(restart_server)
    fault_end = time.monotonic()
    restarted_at = await world.safe_progress()  # None: the server is not answering yet
    recovery = await world.recover(fault_end)
    problems = [f"worker {index} died" for index, worker in enumerate(world.workers) if worker.poll() is not None]
    if restarted_at is not None and restarted_at.done:
        problems.append("the work was over before the restart")
    return Injected(
        recovery,
        {"succeeded_at_restart": before, "restart_seconds": round(fault_end - started, 2)},
        problems=problems,
    )


def _named() -> dict[str, str]:
    return {"PGAPPNAME": WORKER_APPLICATION_NAME.format(run=uuid.uuid4().hex[:8])}


TERMINATE_SCENARIO = Scenario(
    name="PostgreSQL backends terminated",
    fault=f"{BLIPS} rounds of pg_terminate_backend on every worker connection",
    act=terminate,
    expenses=EXPENSES,
    env=_named(),
)
RESTART_SCENARIO = Scenario(
    name="PostgreSQL restart",
    fault="pg_ctlcluster restart mid-export",
    act=restart,
    expenses=EXPENSES,
)
