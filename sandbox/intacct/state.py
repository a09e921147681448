"""Everything the simulator remembers between requests, and how a reset rebuilds it from the seed."""

from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from sandbox.clock import SandboxClock
from sandbox.intacct.auth import COMPANIES, SessionBook
from sandbox.intacct.constants import MAX_CONTROL_IDS_LISTED
from sandbox.intacct.resultsets import ResultSets
from sandbox.intacct.seed import SeedSpec
from sandbox.intacct.store import CompanyStore

IdKey = tuple[str, str, str]
"""(sender, company, control id): control ids are single-use per sender and company."""


@dataclass(frozen=True)
class FunctionTrace:
    control_id: str
    operation: str
    status: str


@dataclass(frozen=True)
class ControlIdEntry:
    """One request as the control API lists it: which control id, from whom, and what became of it."""

    received_at: str
    sender_id: str
    company_id: str
    control_id: str
    unique_id: bool
    outcome: str
    """`executed`, `duplicate_refused`, `authentication_failed` or `control_failed`."""
    functions: tuple[FunctionTrace, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class SimulatorState:
    def __init__(self, clock: SandboxClock, seed: int) -> None:
        self.clock = clock
        self.sessions = SessionBook(clock)
        self.result_sets = ResultSets()
        self.stores: dict[str, CompanyStore] = {}
        self.executed_requests: set[IdKey] = set()
        self.control_log: deque[ControlIdEntry] = deque(maxlen=MAX_CONTROL_IDS_LISTED)
        self.reset(seed)

    def reset(self, seed: int) -> None:
        self.seed = seed
        self.stores = {
            company_id: CompanyStore.from_seed(SeedSpec(seed, company_id, spec.multi_entity))
            for company_id, spec in COMPANIES.items()
        }
        self.sessions = SessionBook(self.clock)  # forgets every session and restores the default TTL
        self.result_sets.clear()
        self.executed_requests.clear()
        self.control_log.clear()
