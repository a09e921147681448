"""Combined faults: several simulator fault modes at once, on the reads and lookups as well as the bill writes, while
workers are killed. One fault at a time never meets the paths where exactly-once breaks (issue 15): a bill applied
but answered 503 whose lookup then fails or is rate-limited, a write that hangs past its lease while another worker
takes the item, a kill between the remote write and its record. Here they overlap:

- Intacct `create:APBILL`: commit_then_fail answered by a hang (once), and by a 503 (certain strikes, then 10 %);
- Intacct `query:*` (the lookups that settle an unknown outcome): 503s and 429s with Retry-After;
- Intacct `read:*` (record URLs read after a create): 503s;
- every Intacct call: dropped connections now and then, and added latency;
- Fyle `GET *` (the pull): two 503s, each failing a pull attempt that the run retries;
- and `COMBINED_KILLS` worker SIGKILLs paced over the export (`chaos.kills`).

Every fault is armed before the workers start (`chaos.faults`); the scenario fails on its faults only if one of
them never fired.
"""

import time
from typing import Any

from chaos.constants import (
    COMBINED_KILLS,
    COMBINED_LATENCY_MS,
    COMBINED_LOOKUP_PROBABILITY,
    COMBINED_PULL_ERRORS,
    COMBINED_RESET_PROBABILITY,
    COMBINED_SEED,
    COMBINED_TIMES,
    COMBINED_WRITE_PROBABILITY,
    EXPENSES,
    LATENCY_TIMES,
    RATE_LIMIT_RETRY_AFTER,
    WORKERS,
)
from chaos.faults import Armed, arm, budgeted, disarm, hold
from chaos.kills import paced_kills
from chaos.scenario import Injected, Options, Scenario
from chaos.world import World

BILL_WRITES = "create:APBILL"
LOOKUPS = "query:*"
READS = "read:*"
INTACCT = {"system": "intacct"}
FAULTS: list[dict[str, Any]] = [
    INTACCT | {"mode": "commit_then_fail", "then": "hang", "operation": BILL_WRITES, "times": 1},
    *budgeted(
        INTACCT | {"mode": "commit_then_fail", "then": "error", "status": 503, "operation": BILL_WRITES},
        probability=COMBINED_WRITE_PROBABILITY,
        times=COMBINED_TIMES,
    ),
    *budgeted(
        INTACCT | {"mode": "error", "status": 503, "operation": LOOKUPS},
        probability=COMBINED_LOOKUP_PROBABILITY,
        times=COMBINED_TIMES,
    ),
    *budgeted(
        INTACCT | {"mode": "rate_limit", "retry_after": RATE_LIMIT_RETRY_AFTER, "operation": LOOKUPS},
        probability=COMBINED_LOOKUP_PROBABILITY,
        times=COMBINED_TIMES,
    ),
    *budgeted(
        INTACCT | {"mode": "error", "status": 503, "operation": READS},
        probability=COMBINED_LOOKUP_PROBABILITY,
        times=COMBINED_TIMES,
    ),
    *budgeted(
        INTACCT | {"mode": "reset", "operation": "*"}, probability=COMBINED_RESET_PROBABILITY, times=COMBINED_TIMES
    ),
    INTACCT | {"mode": "latency", "latency_ms": COMBINED_LATENCY_MS, "operation": "*", "times": LATENCY_TIMES},
    {"system": "fyle", "mode": "error", "status": 503, "operation": "GET *", "times": COMBINED_PULL_ERRORS},
]
"""In the order armed: the simulator fires the first non-latency fault matching a call, so the once-only hang comes
first and each mode's certain strikes before its probabilistic ones."""


def label(spec: dict[str, Any]) -> str:
    then = f" then {spec['then']}" if "then" in spec else ""
    return f"{spec['system']} {spec['operation']} {spec['mode']}{then}"


def fired_by_label(armed: list[Armed], fired: list[int]) -> dict[str, int]:
    """Strikes per fault mode and target, the certain and probabilistic parts of one mode added together."""
    totals: dict[str, int] = {}
    for fault, count in zip(armed, fired, strict=True):
        totals[label(fault.spec)] = totals.get(label(fault.spec), 0) + count
    return totals


async def act(world: World, options: Options) -> Injected:
    async with world.control() as control:
        armed = await arm(control, FAULTS)
        await world.start_workers(WORKERS)
        await world.start_run()
        await world.wait_for_export()
        kills = await paced_kills(world, kills=COMBINED_KILLS, seed=COMBINED_SEED)
        await hold(world, control, armed)
        fired = fired_by_label(armed, await disarm(control, armed))
    fault_end = time.monotonic()
    recovery = await world.recover(fault_end)
    problems = kills.problems() + [f"{name} never fired" for name, count in fired.items() if not count]
    return Injected(
        recovery,
        {"fired": fired, "kills": kills.landed, "succeeded_at_kills": kills.succeeded_at},
        problems=problems,
    )


SCENARIO = Scenario(
    name="combined faults",
    fault=f"{len({label(spec) for spec in FAULTS})} simulator fault modes at once on writes, lookups and reads "
    f"+ {COMBINED_KILLS} SIGKILLs of {WORKERS} workers",
    act=act,
    expenses=EXPENSES,
)
