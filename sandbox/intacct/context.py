"""What a function sees while it runs (who, which company, the clock) and what it hands back."""

from collections.abc import Callable
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from sandbox.clock import SandboxClock
from sandbox.intacct.auth import Identity
from sandbox.intacct.resultsets import ResultSets
from sandbox.intacct.store import CompanyStore


@dataclass(frozen=True)
class Context:
    identity: Identity
    store: CompanyStore
    clock: SandboxClock
    endpoint: str
    """The gateway URL as the client reached it; getAPISession hands it back."""
    result_sets: ResultSets
    session_expiry: str
    """`sessiontimeout` of the current session, already formatted."""

    @property
    def entity(self) -> str:
        return self.identity.entity_id

    @property
    def owner(self) -> str:
        """Whose readByQuery result sets these are: readMore works across sessions of the same user and entity."""
        return f"{self.identity.company_id}:{self.identity.user_id}:{self.entity}"


@dataclass(frozen=True)
class Outcome:
    """A successful function: `data` and/or the legacy `key` element."""

    data: Element | None = None
    key: str | None = None


Handler = Callable[[Context, Element], Outcome]
