"""Limits and defaults of the simulators."""

from typing import Final

CONTROL_PREFIX: Final = "/_sandbox"
HANG_SECONDS: Final = 3600.0
"""How long a `hang` fault holds a request: far longer than any client timeout."""
REQUEST_LOG_SIZE: Final = 5000
DEFAULT_SEED: Final = 42
DEFAULT_PORT: Final = 9000
