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
    PACE_POLL_SECONDS,
    PG_RESTART_TIMEOUT_SECONDS,
    RECOVERY_DEADLINE_SECONDS,
    WORKER_APPLICATION_NAME,
    WORKERS,
)
from chaos.kills import due
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
    """Blips paced by progress like the kills (`chaos.kills.due`), so every one strikes while items are unfinished
    on a machine of any speed; only those count."""
    await world.start_workers(WORKERS)
    await world.start_run()
    await world.wait_for_export()
    terminated: list[int] = []
    succeeded_at: list[int] = []
    deadline = time.monotonic() + RECOVERY_DEADLINE_SECONDS
    while len(succeeded_at) < BLIPS and time.monotonic() < deadline:
        progress = await world.safe_progress()
        if progress is not None:
            if not progress.unfinished:
                break
            if progress.succeeded >= due(len(succeeded_at) + 1, BLIPS, progress.total):
                terminated.append(await _blip(world, aim_seconds=BLIP_AIM_SECONDS))
                succeeded_at.append(progress.succeeded)
        await asyncio.sleep(PACE_POLL_SECONDS)
    fault_end = time.monotonic()
    recovery = await world.recover(fault_end)
    problems = [] if sum(terminated) else ["no backend was terminated"]
    if len(succeeded_at) < BLIPS:
        problems.append(f"only {len(succeeded_at)} of {BLIPS} blips struck before the work was done")
    problems += [f"worker {index} died" for index, worker in enumerate(world.workers) if worker.poll() is not None]
    return Injected(
        recovery,
        {"blips": len(succeeded_at), "terminated": terminated, "succeeded_at_blips": succeeded_at},
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
    await world.wait_for_export()
    before = await world.progress()  # the restart is started at once: what is unfinished now is what it cuts into
    started = time.monotonic()
    await asyncio.to_thread(restart_server)
    fault_end = time.monotonic()
    recovery = await world.recover(fault_end)
    problems = [f"worker {index} died" for index, worker in enumerate(world.workers) if worker.poll() is not None]
    if not before.unfinished:
        problems.append("the work was over before the restart")
    return Injected(
        recovery,
        {"succeeded_at_restart": before.succeeded, "restart_seconds": round(fault_end - started, 2)},
        problems=problems,
    )


def _named() -> dict[str, str]:
    return {"PGAPPNAME": WORKER_APPLICATION_NAME.format(run=uuid.uuid4().hex[:8])}


TERMINATE_SCENARIO = Scenario(
    name="PostgreSQL backends terminated",
    fault=f"{BLIPS} rounds of pg_terminate_backend on every worker connection, paced over the export",
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
