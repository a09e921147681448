"""The error taxonomy of DESIGN.md: classified once, where a failure happens.

Connectors raise these; the sync engine decides what to do from `action`; the dashboard shows `error_class`,
`message` and `hint`. Excerpts must already be redacted when they are attached.
"""

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

PERIOD_CLOSED_CODE = "period_closed"
"""`LedgerlineError.code` of every `PeriodClosed`, whatever the destination."""


class EngineAction(StrEnum):
    """What the sync engine does with an item whose attempt raised the error."""

    NEEDS_ACTION = "needs_action"
    PAUSE_CONNECTION = "pause_connection"
    DEFER_CONNECTION = "defer_connection"
    RETRY = "retry"
    RETRY_WITH_LOOKUP = "retry_with_lookup"


@dataclass(frozen=True, slots=True)
class Excerpt:
    """A redacted piece of a request or response, kept for people to read."""

    method: str | None = None
    url: str | None = None
    status: int | None = None
    body: str | None = None


class LedgerlineError(Exception):
    """Base of every classified failure."""

    error_class: str = "internal"
    action: EngineAction = EngineAction.NEEDS_ACTION
    retriable: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        provider_code: str | None = None,
        hint: str | None = None,
        request: Excerpt | None = None,
        response: Excerpt | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.provider_code = provider_code
        self.hint = hint
        self.request = request
        self.response = response

    def summary(self) -> dict[str, str | None]:
        """The fields stored on an item and shown on the dashboard."""
        return {
            "error_class": self.error_class,
            "code": self.code,
            "provider_code": self.provider_code,
            "message": self.message,
            "hint": self.hint,
        }


class MappingError(LedgerlineError):
    """A source value has no destination mapping; raised before any call to the destination."""

    error_class = "mapping"

    def __init__(self, message: str, *, missing: list[tuple[str, str]] | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.missing = missing or []


class ValidationError(LedgerlineError):
    """The document cannot be valid as built (zero amount, missing vendor)."""

    error_class = "validation"


class DestinationRejected(LedgerlineError):
    """The destination understood the request and refused it on business rules (closed period, duplicate)."""

    error_class = "destination_rejected"


class PeriodClosed(DestinationRejected):
    """The destination refused the document's date because its accounting period is closed. A refusal proves nothing
    was applied, so the engine may send the document again on a later date when the export settings allow it."""

    def __init__(
        self, message: str, *, closed_on: date | None = None, first_open_day: date | None = None, **kwargs: object
    ) -> None:
        kwargs.setdefault("code", PERIOD_CLOSED_CODE)
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.closed_on = closed_on
        """The refused date, when the destination named it."""
        self.first_open_day = first_open_day
        """The first day the destination accepts after the closed period, when the connector could read it."""


class AuthError(LedgerlineError):
    """Credentials no longer work; the connection needs a person to re-authorize it."""

    error_class = "auth"
    action = EngineAction.PAUSE_CONNECTION


class RateLimited(LedgerlineError):
    """The system asked us to slow down; `retry_at` says until when, if it said."""

    error_class = "rate_limited"
    action = EngineAction.DEFER_CONNECTION
    retriable = True

    def __init__(self, message: str, *, retry_at: datetime | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_at = retry_at


class Transient(LedgerlineError):
    """Failed without effect: a read that failed in any way, or a write refused before it was sent (connection
    refused). A write that failed after it was sent is `OutcomeUnknown` instead."""

    error_class = "transient"
    action = EngineAction.RETRY
    retriable = True


class OutcomeUnknown(LedgerlineError):
    """A write that may have been applied: any failure after it was sent (5xx, outage notice, timeout, reset,
    unreadable answer). Look the reference up before sending again."""

    error_class = "outcome_unknown"
    action = EngineAction.RETRY_WITH_LOOKUP
    retriable = True


ERROR_CLASSES: dict[str, type[LedgerlineError]] = {
    cls.error_class: cls
    for cls in (MappingError, ValidationError, DestinationRejected, AuthError, RateLimited, Transient, OutcomeUnknown)
}
