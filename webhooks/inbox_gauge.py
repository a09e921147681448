"""Whether a connection's inbox (events still `received`) is full, counted at most once a second per process.

Counting on every delivery would add a statement to the hot path, and a full inbox does not empty in a second
anyway; between counts the last answer stands.
"""

import time
import uuid
from collections.abc import Callable


class InboxGauge:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._known: dict[uuid.UUID, tuple[float, bool]] = {}

    def known_full(self, connection_id: uuid.UUID) -> bool | None:
        """True or False while the last count is fresh; None when it is time to count again."""
        entry = self._known.get(connection_id)
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]

    def record(self, connection_id: uuid.UUID, *, full: bool, fresh_for_seconds: float) -> None:
        self._known[connection_id] = (self._clock() + fresh_for_seconds, full)

    def forget(self) -> None:
        self._known.clear()
