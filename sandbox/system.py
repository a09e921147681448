"""What every simulated system provides to the shared machinery (faults, rate limits, control API)."""

from typing import Protocol

from fastapi import APIRouter
from starlette.responses import Response
from starlette.types import ASGIApp


class SimulatedSystem(Protocol):
    """One external system. The shared layer wraps `app` with faults, rate limits and the request log."""

    name: str
    """URL prefix and fault target: `fyle`, `intacct`."""

    @property
    def app(self) -> ASGIApp:
        """The system's own wire API, mounted at `/{name}`."""
        ...

    @property
    def control(self) -> APIRouter:
        """System-specific inspection endpoints, mounted at `/_sandbox/{name}`."""
        ...

    def operation_of(self, method: str, path: str, body: bytes) -> str:
        """A name for what a request does (`GET /platform/v1/admin/expenses`, `create:APBILL`), for fault matching."""
        ...

    def error_response(self, status: int, message: str) -> Response:
        """A server failure in the system's own error format."""
        ...

    def rate_limited_response(self, retry_after: int) -> Response:
        """The system's own answer when a client exceeds its rate limit."""
        ...

    def reset(self, seed: int) -> None:
        """Forget every change and regenerate the seed data."""
        ...
