"""Composes the simulators into one ASGI app: `/{system}/…` wire APIs and the `/_sandbox` control API."""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict

from sandbox.clock import SandboxClock
from sandbox.constants import CONTROL_PREFIX, DEFAULT_SEED
from sandbox.faults import Fault, FaultBook, FaultSpec
from sandbox.fyle import FyleSimulator
from sandbox.harness import SystemHarness
from sandbox.intacct import IntacctSimulator
from sandbox.quickbooks import QuickBooksSimulator
from sandbox.ratelimit import RateLimiter, RateLimitSpec
from sandbox.requestlog import RequestLog
from sandbox.system import SimulatedSystem
from sandbox.xero import XeroSimulator

SystemFactory = Callable[..., SimulatedSystem]
SYSTEMS: dict[str, SystemFactory] = {
    "fyle": FyleSimulator,
    "intacct": IntacctSimulator,
    "quickbooks": QuickBooksSimulator,
    "xero": XeroSimulator,
}


class ClockUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    now: datetime | None = None
    advance_seconds: float | None = None


class ResetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int | None = None


class Sandbox:
    """All simulators of one run, sharing a clock, a fault book and a request log."""

    def __init__(self, systems: Sequence[str] = tuple(SYSTEMS), *, seed: int = DEFAULT_SEED) -> None:
        unknown = sorted(set(systems) - set(SYSTEMS))
        if unknown:
            raise ValueError(f"unknown systems {unknown}; choose from {sorted(SYSTEMS)}")
        self.seed = seed
        self.clock = SandboxClock()
        self.faults = FaultBook(seed)
        self.log = RequestLog()
        self.systems: dict[str, SimulatedSystem] = {
            name: SYSTEMS[name](clock=self.clock, seed=seed) for name in systems
        }
        self.limiters = {name: RateLimiter() for name in systems}

    def reset(self, seed: int | None = None) -> None:
        self.seed = self.seed if seed is None else seed
        self.clock.reset()
        self.faults.clear()
        self.faults.reseed(self.seed)
        self.log.clear()
        for name, system in self.systems.items():
            system.reset(self.seed)
            self.limiters[name].configure(RateLimitSpec())

    def asgi(self) -> FastAPI:
        app = FastAPI(title="Ledgerline sandbox", summary="Simulators of the external systems, with faults.")
        app.include_router(self._control_router(), prefix=CONTROL_PREFIX)
        for name, system in self.systems.items():
            app.include_router(system.control, prefix=f"{CONTROL_PREFIX}/{name}", tags=[name])
            harness = SystemHarness(system, faults=self.faults, limiter=self.limiters[name], log=self.log)
            app.mount(f"/{name}", harness)
        app.state.sandbox = self
        return app

    def _system(self, name: str) -> SimulatedSystem:
        if name not in self.systems:
            raise HTTPException(404, f"no simulator named {name!r} in this sandbox")
        return self.systems[name]

    def _control_router(self) -> APIRouter:
        router = APIRouter(tags=["control"])

        @router.get("/health")
        async def health() -> dict[str, Any]:
            return {"status": "ok", "systems": sorted(self.systems), "seed": self.seed}

        @router.get("/faults")
        async def list_faults() -> list[Fault]:
            return self.faults.list()

        @router.post("/faults", status_code=201)
        async def add_fault(spec: FaultSpec) -> Fault:
            self._system(spec.system)
            return self.faults.add(spec)

        @router.delete("/faults", status_code=204)
        async def clear_faults(system: str | None = None) -> None:
            self.faults.clear(system)

        @router.delete("/faults/{fault_id}", status_code=204)
        async def remove_fault(fault_id: str) -> None:
            if not self.faults.remove(fault_id):
                raise HTTPException(404, f"no fault {fault_id}")

        @router.put("/rate_limits/{system}")
        async def set_rate_limit(system: str, spec: RateLimitSpec) -> RateLimitSpec:
            self._system(system)
            self.limiters[system].configure(spec)
            return spec

        @router.get("/clock")
        async def read_clock() -> dict[str, datetime]:
            return {"now": self.clock.now()}

        @router.put("/clock")
        async def set_clock(update: ClockUpdate) -> dict[str, datetime]:
            if update.now is not None:
                self.clock.set(update.now)
            if update.advance_seconds is not None:
                self.clock.advance(update.advance_seconds)
            return {"now": self.clock.now()}

        @router.get("/requests")
        async def requests(system: str | None = None, operation: str | None = None, limit: int = 100) -> dict[str, Any]:
            entries = self.log.entries(system=system, operation=operation)
            return {"count": len(entries), "data": [entry.as_dict() for entry in entries[-limit:]]}

        @router.post("/reset")
        async def reset(request: ResetRequest) -> dict[str, Any]:
            self.reset(request.seed)
            return {"status": "ok", "seed": self.seed}

        return router
