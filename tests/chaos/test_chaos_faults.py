"""Arming faults before the work: the bookkeeping that decides whether a fault fired is read from the real control
API, where a fault that has fired its `times` leaves the list."""

import httpx

from chaos.constants import CERTAIN_STRIKES
from chaos.faults import Armed, arm, budgeted, disarm, fired, spent, standing
from chaos.scenarios.combined import FAULTS as COMBINED_FAULTS
from chaos.scenarios.combined import fired_by_label
from sandbox.constants import CONTROL_PREFIX
from tests.sandbox_fixtures import RunningSandbox

EXPENSES = "/fyle/platform/v1/admin/expenses"


async def test_certain_strikes_fire_first_then_retire_and_disarm_counts_both(sandbox: RunningSandbox) -> None:
    specs = budgeted({"system": "fyle", "mode": "error", "status": 503, "operation": "GET *"}, probability=0.0, times=3)
    async with httpx.AsyncClient(base_url=f"{sandbox.url}{CONTROL_PREFIX}", timeout=10) as control:
        armed = await arm(control, specs)
        async with httpx.AsyncClient(base_url=sandbox.url, timeout=10) as client:
            answers = [(await client.get(EXPENSES)).status_code for _ in range(CERTAIN_STRIKES + 1)]
        assert answers[:CERTAIN_STRIKES] == [503] * CERTAIN_STRIKES
        assert answers[-1] != 503  # the certain fault retired; the one at probability 0 never fires
        listed = await standing(control)
        assert fired(armed, listed) == [CERTAIN_STRIKES, 0]
        assert not spent(armed, listed)
        assert await disarm(control, armed) == [CERTAIN_STRIKES, 0]
        assert await standing(control) == []


async def test_a_fault_that_fired_its_whole_budget_is_spent(sandbox: RunningSandbox) -> None:
    spec = {"system": "fyle", "mode": "error", "status": 503, "operation": "GET *", "times": 2}
    async with httpx.AsyncClient(base_url=f"{sandbox.url}{CONTROL_PREFIX}", timeout=10) as control:
        armed = await arm(control, [spec])
        assert not spent(armed, await standing(control))
        async with httpx.AsyncClient(base_url=sandbox.url, timeout=10) as client:
            for _ in range(2):
                await client.get(EXPENSES)
        listed = await standing(control)
        assert spent(armed, listed)
        assert fired(armed, listed) == [2]
        assert await disarm(control, armed) == [2]


def test_the_combined_scenario_counts_each_mode_once_with_its_certain_and_probabilistic_parts() -> None:
    armed = [Armed(str(index), spec) for index, spec in enumerate(COMBINED_FAULTS)]
    counts = fired_by_label(armed, [1] * len(armed))
    assert counts["intacct create:APBILL commit_then_fail then error"] == 2  # the certain strikes and the tail
    assert counts["intacct create:APBILL commit_then_fail then hang"] == 1
    assert {"intacct query:* error", "intacct query:* rate_limit", "intacct read:* error"} <= counts.keys()
    assert sum(counts.values()) == len(armed)
