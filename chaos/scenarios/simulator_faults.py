"""Every fault mode of the simulators, one scenario each, armed before the workers start and aimed at the Intacct
bill writes (where exactly-once is at stake) or at every Intacct call (latency, rate limits): 5xx, 429 with
Retry-After, a hang until the client gives up, a dropped connection, an unparseable 200, and a write applied but
answered with a failure. Transient ones must be retried, unknown outcomes looked up before anything is re-sent.

A scenario fails on its fault only if the fault never fired; the work ending before the fault's budget is spent is
what a fast machine does, not a failure (`chaos.faults`)."""

import time
from typing import Any

from chaos.constants import EXPENSES, FAULT_WINDOW_SECONDS, HANGS, LATENCY_TIMES, RATE_LIMIT_RETRY_AFTER, WORKERS
from chaos.faults import arm, budgeted, disarm, hold
from chaos.scenario import Act, Injected, Options, Scenario
from chaos.world import World

BILL_WRITES = "create:APBILL"
INTACCT = {"system": "intacct"}
FAULTS: dict[str, list[dict[str, Any]]] = {
    "latency": [INTACCT | {"mode": "latency", "operation": "*", "latency_ms": 400, "times": LATENCY_TIMES}],
    "error": budgeted(INTACCT | {"mode": "error", "operation": BILL_WRITES, "status": 503}),
    "rate_limit": budgeted(INTACCT | {"mode": "rate_limit", "operation": "*", "retry_after": RATE_LIMIT_RETRY_AFTER}),
    "hang": [INTACCT | {"mode": "hang", "operation": BILL_WRITES, "times": HANGS}],
    "reset": budgeted(INTACCT | {"mode": "reset", "operation": BILL_WRITES}),
    "malformed": budgeted(INTACCT | {"mode": "malformed", "operation": BILL_WRITES}),
    "commit_then_fail": budgeted(INTACCT | {"mode": "commit_then_fail", "operation": BILL_WRITES}),
}
"""Per mode, the faults as the control API takes them (`POST /_sandbox/faults`), armed in this order."""


def act_for(mode: str) -> Act:
    async def act(world: World, options: Options) -> Injected:
        async with world.control() as control:
            armed = await arm(control, FAULTS[mode])
            await world.start_workers(WORKERS)
            await world.start_run()
            work_ended_first = await hold(world, control, armed)
            fired = await disarm(control, armed)
        fault_end = time.monotonic()
        recovery = await world.recover(fault_end)
        problems = [] if sum(fired) else [f"the {mode} fault never fired"]
        details = {"faults": FAULTS[mode], "fired": fired, "work_ended_while_armed": work_ended_first}
        return Injected(recovery, details, problems=problems)

    return act


def _described(mode: str) -> str:
    faults = FAULTS[mode]
    budget = " + ".join(f"{fault['times']} at p={fault.get('probability', 1.0):g}" for fault in faults)
    return (
        f"intacct {faults[0]['operation']} {mode}, armed before the workers start: {budget} "
        f"(held at most {FAULT_WINDOW_SECONDS:.0f} s)"
    )


SCENARIOS = [
    Scenario(name=f"simulator fault: {mode}", fault=_described(mode), act=act_for(mode), expenses=EXPENSES)
    for mode in FAULTS
]
