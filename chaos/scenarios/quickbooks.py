"""Fyle → QuickBooks Online under commit-then-fail and a worker SIGKILL loop (issue 19): the export's creates are
applied by the QuickBooks simulator and then answered with a failure, on every create path it has (`POST batch`,
which carries the connector's bills and its DocNumber lookups, `POST upload` for receipts, and the single-document
`POST bill` and `POST purchase`), while workers are killed and restarted again and again. The lost answers must be
adopted through `requestid` and the DocNumber lookups, never sent as second documents; every exportable expense must
end in exactly one bill; the product's books check must be clean.

The connector creates documents only through `POST batch`, so the `POST bill` and `POST purchase` faults are armed to
show that no path around the batch is taken: they firing would be the surprise, and their count is printed.
"""

import time
from typing import Any

from bench.destinations import QUICKBOOKS
from chaos.constants import EXPENSES, KILL_SEED, KILLS, WORKERS
from chaos.faults import arm, budgeted, disarm, hold
from chaos.kills import paced_kills
from chaos.scenario import Injected, Options, Scenario
from chaos.world import World

SYSTEM = {"system": QUICKBOOKS, "mode": "commit_then_fail"}
MUST_FIRE = ("POST batch", "POST upload")
"""The calls the export makes: bills and lookups in batches, receipts (the seed's expenses carry some) by upload."""
NEVER_CALLED = ("POST bill", "POST purchase")
FAULTS: list[dict[str, Any]] = [
    *(fault for operation in MUST_FIRE for fault in budgeted(SYSTEM | {"operation": operation, "status": 503})),
    *(SYSTEM | {"operation": operation, "status": 503} for operation in NEVER_CALLED),
]


def fired_by_operation(faults: list[dict[str, Any]], fired: list[int]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for spec, count in zip(faults, fired, strict=True):
        totals[spec["operation"]] = totals.get(spec["operation"], 0) + count
    return totals


async def act(world: World, options: Options) -> Injected:
    async with world.control() as control:
        armed = await arm(control, FAULTS)
        await world.start_workers(WORKERS)
        await world.start_run()
        await world.wait_for_export()
        kills = await paced_kills(world, kills=KILLS, seed=KILL_SEED)
        await hold(world, control, [fault for fault in armed if fault.spec["operation"] in MUST_FIRE])
        fired = fired_by_operation(FAULTS, await disarm(control, armed))
    fault_end = time.monotonic()
    recovery = await world.recover(fault_end)
    problems = kills.problems() + [
        f"commit_then_fail on {operation} never fired" for operation in MUST_FIRE if not fired[operation]
    ]
    notes = [
        f"{operation} was called {fired[operation]} times (the connector creates through batches)"
        for operation in NEVER_CALLED
        if fired[operation]
    ]
    return Injected(
        recovery,
        {"fired": fired, "kills": kills.landed, "succeeded_at_kills": kills.succeeded_at},
        problems=problems,
        notes=notes,
    )


SCENARIO = Scenario(
    name="quickbooks: commit-then-fail + SIGKILL loop",
    fault=f"QuickBooks commit_then_fail on {', '.join(MUST_FIRE + NEVER_CALLED)} + {KILLS} SIGKILLs of {WORKERS} "
    "workers paced over the export",
    act=act,
    expenses=EXPENSES,
    destination=QUICKBOOKS,
)
