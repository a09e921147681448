"""Worker SIGKILL loop: a random worker is killed and restarted again and again while the export runs, and 5 % of
the destination's bill writes are applied and then answered with a failure (tests/sync/test_crash_safety.py at run
size). Leases expire, outcomes are unknown, and lookup-first must adopt every orphaned bill instead of sending it
again. The kills are paced by progress (`chaos.kills`), so all of them land while items are unfinished."""

import time

from chaos.constants import COMMIT_THEN_FAIL_PROBABILITY, EXPENSES, KILL_SEED, KILLS, WORKERS
from chaos.faults import arm, disarm
from chaos.kills import paced_kills
from chaos.scenario import Injected, Options, Scenario
from chaos.world import World

COMMIT_THEN_FAIL = {
    "system": "intacct",
    "operation": "create:APBILL",
    "mode": "commit_then_fail",
    "probability": COMMIT_THEN_FAIL_PROBABILITY,
}


async def act(world: World, options: Options) -> Injected:
    async with world.control() as control:
        armed = await arm(control, [COMMIT_THEN_FAIL])
        await world.start_workers(WORKERS)
        await world.start_run()
        await world.wait_for_export()
        kills = await paced_kills(world, kills=KILLS, seed=KILL_SEED)
        [fired] = await disarm(control, armed)
    fault_end = time.monotonic()
    recovery = await world.recover(fault_end)
    problems = kills.problems() + ([] if fired else ["commit_then_fail never fired"])
    return Injected(
        recovery,
        {"kills": kills.landed, "succeeded_at_kills": kills.succeeded_at, "commit_then_fail_fired": fired},
        problems=problems,
    )


SCENARIO = Scenario(
    name="worker SIGKILL loop",
    fault=f"{KILLS} SIGKILLs of {WORKERS} workers paced over the export + commit_then_fail "
    f"{COMMIT_THEN_FAIL_PROBABILITY:.0%}",
    act=act,
    expenses=EXPENSES,
)
