"""Worker SIGKILL loop: a random worker is killed and restarted again and again while the export runs, and 5 % of
the destination's bill writes are applied and then answered with a failure (tests/sync/test_crash_safety.py at run
size). Leases expire, outcomes are unknown, and lookup-first must adopt every orphaned bill instead of sending it
again."""

import asyncio
import random
import time

from chaos.constants import COMMIT_THEN_FAIL_PROBABILITY, EXPENSES, KILL_GAP_SECONDS, KILL_SEED, KILLS, WORKERS
from chaos.scenario import Injected, Options, Scenario
from chaos.world import World


async def act(world: World, options: Options) -> Injected:
    async with world.control() as control:
        added = await control.post(
            "/faults",
            json={
                "system": "intacct",
                "operation": "create:APBILL",
                "mode": "commit_then_fail",
                "probability": COMMIT_THEN_FAIL_PROBABILITY,
            },
        )
        added.raise_for_status()
        await world.start_workers(WORKERS)
        await world.start_run()
        await world.wait_for_export()
        draw = random.Random(KILL_SEED)
        for _ in range(KILLS):
            await asyncio.sleep(draw.uniform(*KILL_GAP_SECONDS))
            world.kill_and_restart(draw.randrange(WORKERS))
        fired = sum(fault["fired"] for fault in (await control.get("/faults")).json())
        (await control.delete(f"/faults/{added.json()['id']}")).raise_for_status()
        fault_end = time.monotonic()
        at_last_kill = await world.progress()
    recovery = await world.recover(fault_end)
    problems = [] if fired else ["commit_then_fail never fired"]
    if at_last_kill.done:
        problems.append("the work was over before the kills were")
    return Injected(
        recovery,
        {"kills": KILLS, "succeeded_at_last_kill": at_last_kill.succeeded, "commit_then_fail_fired": fired},
        problems=problems,
    )


SCENARIO = Scenario(
    name="worker SIGKILL loop",
    fault=f"{KILLS} SIGKILLs of {WORKERS} workers + commit_then_fail {COMMIT_THEN_FAIL_PROBABILITY:.0%}",
    act=act,
    expenses=EXPENSES,
)
