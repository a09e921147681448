"""A bounded log of the requests each simulator answered, for tests and the control API."""

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from sandbox.constants import REQUEST_LOG_SIZE


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    system: str
    method: str
    path: str
    operation: str
    status: int
    duration_ms: float
    fault: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    def __init__(self, size: int = REQUEST_LOG_SIZE) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=size)

    def add(self, entry: LoggedRequest) -> None:
        self._entries.append(entry)

    def entries(self, *, system: str | None = None, operation: str | None = None) -> list[LoggedRequest]:
        return [
            entry
            for entry in self._entries
            if (system is None or entry.system == system) and (operation is None or entry.operation == operation)
        ]

    def count(self, *, system: str | None = None, operation: str | None = None) -> int:
        return len(self.entries(system=system, operation=operation))

    def clear(self) -> None:
        self._entries.clear()
