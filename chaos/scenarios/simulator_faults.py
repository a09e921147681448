"""Every fault mode of the simulators, one scenario each, switched on for a few seconds once the first bill is
exported, and aimed at the Intacct bill writes (where exactly-once is at stake) or at every Intacct call (latency,
rate limits): 5xx, 429 with Retry-After, a hang until the client gives up, a dropped connection, an unparseable 200,
and a write applied but answered with a failure. Transient ones must be retried, unknown outcomes looked up before
anything is re-sent."""

import asyncio
import time
from typing import Any

from chaos.constants import (
    EXPENSES,
    FAULT_PROBABILITY,
    FAULT_SECONDS,
    HANGS,
    RATE_LIMIT_RETRY_AFTER,
    WORKERS,
)
from chaos.scenario import Act, Injected, Options, Scenario
from chaos.world import World

BILL_WRITES = "create:APBILL"
FAULTS: dict[str, dict[str, Any]] = {
    "latency": {"operation": "*", "latency_ms": 400},
    "error": {"operation": BILL_WRITES, "probability": FAULT_PROBABILITY, "status": 503},
    "rate_limit": {"operation": "*", "probability": FAULT_PROBABILITY, "retry_after": RATE_LIMIT_RETRY_AFTER},
    "hang": {"operation": BILL_WRITES, "times": HANGS},
    "reset": {"operation": BILL_WRITES, "probability": FAULT_PROBABILITY},
    "malformed": {"operation": BILL_WRITES, "probability": FAULT_PROBABILITY},
    "commit_then_fail": {"operation": BILL_WRITES, "probability": FAULT_PROBABILITY},
}
"""Per mode, the fault as the control API takes it (`POST /_sandbox/faults`), on the Intacct simulator."""


def act_for(mode: str) -> Act:
    async def act(world: World, options: Options) -> Injected:
        async with world.control() as control:
            await world.start_workers(WORKERS)
            await world.start_run()
            await world.wait_for_export()  # the fault strikes the export, not the pull before it
            added = await control.post("/faults", json={"system": "intacct", "mode": mode, **FAULTS[mode]})
            added.raise_for_status()
            await asyncio.sleep(FAULT_SECONDS)
            standing = (await control.get("/faults")).json()
            # A fault limited to `times` leaves the list once it has fired that often.
            fired = sum(fault["fired"] for fault in standing) if standing else FAULTS[mode].get("times", 0)
            (await control.request("DELETE", "/faults")).raise_for_status()
        fault_end = time.monotonic()
        at_fault_end = await world.progress()
        recovery = await world.recover(fault_end)
        problems = [] if fired else [f"the {mode} fault never fired"]
        if at_fault_end.done:
            problems.append(f"the work was over before the {mode} fault was")
        return Injected(recovery, {"fault": FAULTS[mode], "fired": fired}, problems=problems)

    return act


SCENARIOS = [
    Scenario(
        name=f"simulator fault: {mode}",
        fault=f"intacct {spec['operation']} {mode} for {FAULT_SECONDS:.0f} s",
        act=act_for(mode),
        expenses=EXPENSES,
    )
    for mode, spec in FAULTS.items()
]
