"""Simulator faults armed before the work they target, through the control API (`/_sandbox/faults`).

Why armed first: a fault switched on once the export is under way misses it on a fast machine (the export of two
thousand expenses is over in seconds). Armed before the workers start, every fault has a budget (`times`) and is
held until that budget is spent, the work is done, or `FAULT_WINDOW_SECONDS` have passed; a scenario then fails on
its fault only if the fault never fired. A probabilistic fault is preceded by a few certain strikes on the same
calls (`budgeted`), so it fires however few calls the export makes.
"""

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

from chaos.constants import CERTAIN_STRIKES, FAULT_PROBABILITY, FAULT_TIMES, FAULT_WINDOW_SECONDS, POLL_SECONDS
from chaos.world import World


@dataclass(frozen=True)
class Armed:
    fault_id: str
    spec: dict[str, Any]


def budgeted(
    spec: dict[str, Any], *, probability: float = FAULT_PROBABILITY, times: int = FAULT_TIMES
) -> list[dict[str, Any]]:
    """`CERTAIN_STRIKES` strikes at probability 1, then `times` more at `probability`, on the same calls.

    The certain fault comes first: the simulator fires the first matching fault, so it takes the first calls."""
    return [spec | {"probability": 1.0, "times": CERTAIN_STRIKES}, spec | {"probability": probability, "times": times}]


def fired(armed: list[Armed], standing: list[dict[str, Any]]) -> list[int]:
    """How often each armed fault fired; one absent from the list has retired after firing its `times`."""
    counts = {fault["id"]: int(fault["fired"]) for fault in standing}
    return [counts.get(fault.fault_id, int(fault.spec.get("times") or 0)) for fault in armed]


def spent(armed: list[Armed], standing: list[dict[str, Any]]) -> bool:
    """Every armed fault has fired its whole budget (and so left the list)."""
    ids = {fault["id"] for fault in standing}
    return not any(fault.fault_id in ids for fault in armed)


async def arm(control: httpx.AsyncClient, specs: list[dict[str, Any]]) -> list[Armed]:
    armed = []
    for spec in specs:
        added = await control.post("/faults", json=spec)
        added.raise_for_status()
        armed.append(Armed(added.json()["id"], spec))
    return armed


async def standing(control: httpx.AsyncClient) -> list[dict[str, Any]]:
    listed = await control.get("/faults")
    listed.raise_for_status()
    faults: list[dict[str, Any]] = listed.json()
    return faults


async def hold(
    world: World, control: httpx.AsyncClient, armed: list[Armed], *, window_seconds: float = FAULT_WINDOW_SECONDS
) -> bool:
    """Until the faults are spent, the work is done or the window has passed; whether the work ended first."""
    deadline = time.monotonic() + window_seconds
    while time.monotonic() < deadline:
        if spent(armed, await standing(control)):
            return False
        progress = await world.safe_progress()
        if progress is not None and progress.done:
            return True
        await asyncio.sleep(POLL_SECONDS)
    return False


async def disarm(control: httpx.AsyncClient, armed: list[Armed]) -> list[int]:
    """Remove the faults still standing; how often each fired."""
    counts = fired(armed, await standing(control))
    for fault in armed:
        removed = await control.delete(f"/faults/{fault.fault_id}")
        if removed.status_code != httpx.codes.NOT_FOUND:  # retired on its own since it was read: nothing to remove
            removed.raise_for_status()
    return counts
