"""Switchable faults, per system and operation, with a probability and an optional count.

Modes (each has a test showing its wire shape):
- `latency`: add `latency_ms`, then answer normally (stacks with one other fault);
- `error`: answer `status` with the system's own error body, without running the request;
- `rate_limit`: answer the system's rate-limit response with `retry_after`;
- `hang`: hold the request until the client gives up;
- `reset`: start the response, then drop the connection mid-body;
- `malformed`: run the request, then send a truncated, unparseable body with status 200;
- `commit_then_fail`: run the request (the write is applied), then answer `status` or hang (`then`).
"""

import fnmatch
import random
import uuid
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FaultMode(StrEnum):
    LATENCY = "latency"
    ERROR = "error"
    RATE_LIMIT = "rate_limit"
    HANG = "hang"
    RESET = "reset"
    MALFORMED = "malformed"
    COMMIT_THEN_FAIL = "commit_then_fail"


class FaultSpec(BaseModel):
    """A fault as the control API accepts it."""

    model_config = ConfigDict(extra="forbid")

    system: str
    operation: str = Field(default="*", description="Glob over operation names, e.g. `create:APBILL`, `GET *expenses`.")
    mode: FaultMode
    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    times: int | None = Field(default=None, ge=1, description="Fire at most this many times, then retire.")
    status: int = Field(default=503, ge=400, le=599)
    retry_after: int = Field(default=30, ge=0)
    latency_ms: int = Field(default=0, ge=0, le=600_000)
    then: Literal["error", "hang"] = "error"


class Fault(FaultSpec):
    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    fired: int = 0


class FaultBook:
    """The active faults. Draws are seeded, so a run with the same seed and traffic fires the same faults."""

    def __init__(self, seed: int) -> None:
        self._faults: list[Fault] = []
        self._random = random.Random(seed)

    def add(self, spec: FaultSpec) -> Fault:
        fault = Fault(**spec.model_dump())
        self._faults.append(fault)
        return fault

    def remove(self, fault_id: str) -> bool:
        before = len(self._faults)
        self._faults = [fault for fault in self._faults if fault.id != fault_id]
        return len(self._faults) < before

    def clear(self, system: str | None = None) -> None:
        self._faults = [fault for fault in self._faults if system is not None and fault.system != system]

    def list(self) -> list[Fault]:
        return list(self._faults)

    def reseed(self, seed: int) -> None:
        self._random = random.Random(seed)

    def draw(self, system: str, operation: str) -> tuple[int, Fault | None]:
        """The latency to add and the one non-latency fault (if any) that fires for this request."""
        latency = 0
        chosen: Fault | None = None
        for fault in list(self._faults):  # a fault retires from the list mid-loop: iterate over a copy
            if fault.system != system or not fnmatch.fnmatchcase(operation, fault.operation):
                continue
            if fault.mode is not FaultMode.LATENCY and chosen is not None:
                continue
            if self._random.random() >= fault.probability:
                continue
            fault.fired += 1
            if fault.mode is FaultMode.LATENCY:
                latency += fault.latency_ms
            else:
                chosen = fault
            if fault.times is not None and fault.fired >= fault.times:
                self._faults.remove(fault)
        return latency, chosen
