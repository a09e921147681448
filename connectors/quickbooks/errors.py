"""QuickBooks' `{"Fault": {"Error": [{"Message", "Detail", "code", "element"}], "type"}}` → the taxonomy of DESIGN.md.

A whole call's failure comes back with its HTTP status; a batch item's as a `Fault` beside its `bId` inside a 200.
Both are read here, by the error code:

- 3200 (token expired or revoked; the auth flow has already refreshed once), 3100 (not this company) → `AuthError`;
- 3001 (throttled) → `RateLimited`, by the base class from the 429, here for a batch item (retried after a minute);
- 6210 (books closed through the closing date) → `PeriodClosed`, the first open day read from the company's
  preferences by the caller (`with_first_open_day`);
- 610 (an inactive or missing object), 2500 (an unknown reference) → `DestinationRejected`: the fix is in
  QuickBooks or the mappings (re-import, re-map), not in how Ledgerline built the document;
- 2020, 2050, 2170, 2010 (a value that cannot be valid as sent) → `ValidationError`;
- 6140 (DocNumber already used) → `DestinationRejected` with `CODE_DUPLICATE_REFERENCE`: the push looks the
  reference up and adopts the document that holds it;
- anything else QuickBooks refuses (6000 business rules, 6240 duplicate names) → `DestinationRejected`;
- a `SystemFault` (5xx) → `Transient`, which the base class makes `OutcomeUnknown` for a write. Inside a batch a
  `SystemFault` item is no refusal: the connector looks it up (`QuickBooksConnector._unsettled`).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connectors.quickbooks.constants import (
    CODE_BUSINESS,
    CODE_DUPLICATE_DOC,
    CODE_DUPLICATE_REFERENCE,
    CODE_FORBIDDEN,
    CODE_INACTIVE_REFERENCE,
    CODE_INVALID_DOCUMENT,
    CODE_INVALID_ENUM,
    CODE_INVALID_REFERENCE,
    CODE_MALFORMED,
    CODE_NOT_FOUND,
    CODE_PERIOD_CLOSED,
    CODE_REQUIRED,
    CODE_STRING_LENGTH,
    CODE_THROTTLED,
    CODE_TOKEN,
    THROTTLE_RETRY_SECONDS,
)
from core.errors import (
    AuthError,
    DestinationRejected,
    Excerpt,
    LedgerlineError,
    PeriodClosed,
    RateLimited,
    ValidationError,
)

DISPLAY_NAME = "QuickBooks Online"
INVALID_VALUE_CODES = frozenset({CODE_REQUIRED, CODE_STRING_LENGTH, CODE_INVALID_ENUM, CODE_MALFORMED})
REJECTED_REFERENCE_CODES = frozenset({CODE_NOT_FOUND, CODE_INVALID_REFERENCE})
HINTS = {
    CODE_NOT_FOUND: "An account, vendor or other object the document names is inactive or gone in QuickBooks. "
    "Make it active again, or re-import the dimensions and change the mapping, then replay.",
    CODE_INVALID_REFERENCE: "QuickBooks does not know an object the document names. Re-import the dimensions and "
    "check the mappings, then replay.",
    CODE_PERIOD_CLOSED: "The transaction date is on or before the company's closing date. Move the closing date in "
    "QuickBooks (Account and settings > Advanced), or turn on posting to the first open day in the export settings.",
    CODE_BUSINESS: "QuickBooks refused the document on one of its business rules; the message says which.",
    CODE_DUPLICATE_DOC: "A document with this number already exists: Ledgerline looks it up and adopts it.",
}


@dataclass(frozen=True, slots=True)
class FaultError:
    code: str
    message: str
    detail: str
    element: str


def fault_errors(body: Any) -> tuple[str, list[FaultError]]:
    """The fault's type and its errors from a response body or a batch item; empty when it holds no fault."""
    fault = body.get("Fault") if isinstance(body, Mapping) else None
    if not isinstance(fault, Mapping):
        fault = body.get("fault") if isinstance(body, Mapping) else None  # some 401 bodies use lower case
    if not isinstance(fault, Mapping):
        return "", []
    errors = fault.get("Error") or fault.get("error") or []
    found = [
        FaultError(
            code=str(error.get("code", "")),
            message=str(error.get("Message") or error.get("message") or ""),
            detail=str(error.get("Detail") or error.get("detail") or ""),
            element=str(error.get("element") or ""),
        )
        for error in errors
        if isinstance(error, Mapping)
    ]
    return str(fault.get("type", "")), found


def classify_fault(
    errors: Sequence[FaultError], *, request: Excerpt | None = None, response: Excerpt | None = None
) -> LedgerlineError:
    """The class of a refusal QuickBooks explained with these errors (the first names the cause)."""
    if not errors:
        return DestinationRejected(
            f"{DISPLAY_NAME} refused the request without saying why.", request=request, response=response
        )
    first = errors[0]
    message = "; ".join(_text(error) for error in errors)
    common: dict[str, Any] = {
        "provider_code": first.code,
        "hint": HINTS.get(first.code),
        "request": request,
        "response": response,
    }
    if first.code in (CODE_TOKEN, CODE_FORBIDDEN):
        return AuthError(
            f"{DISPLAY_NAME} refused the connection's authorization: {message}",
            **common | {"hint": "Re-connect QuickBooks Online (the grant was revoked, or is for another company)."},
        )
    if first.code == CODE_THROTTLED:  # nothing was done: the request limit was reached first
        retry_at = datetime.now(UTC) + timedelta(seconds=THROTTLE_RETRY_SECONDS)
        return RateLimited(f"{DISPLAY_NAME} rate limit reached: {message}", retry_at=retry_at, **common)
    if first.code == CODE_PERIOD_CLOSED:
        return PeriodClosed(f"{DISPLAY_NAME}: {message}", **common)
    if first.code in REJECTED_REFERENCE_CODES:
        return DestinationRejected(f"{DISPLAY_NAME}: {message}", code=CODE_INACTIVE_REFERENCE, **common)
    if first.code in INVALID_VALUE_CODES:
        return ValidationError(f"{DISPLAY_NAME}: {message}", code=CODE_INVALID_DOCUMENT, **common)
    if first.code == CODE_DUPLICATE_DOC:
        return DestinationRejected(f"{DISPLAY_NAME}: {message}", code=CODE_DUPLICATE_REFERENCE, **common)
    return DestinationRejected(f"{DISPLAY_NAME}: {message}", **common)


def with_first_open_day(error: LedgerlineError, *, refused: date, close_date: date | None) -> LedgerlineError:
    """A closed-period refusal naming the refused date and, when the company's closing date is known, the day
    after it (the first QuickBooks accepts)."""
    if not isinstance(error, PeriodClosed):
        return error
    first_open = date.fromordinal(close_date.toordinal() + 1) if close_date is not None else None
    return PeriodClosed(
        error.message,
        code=error.code,
        provider_code=error.provider_code,
        hint=error.hint,
        request=error.request,
        response=error.response,
        closed_on=refused,
        first_open_day=first_open,
    )


def _text(error: FaultError) -> str:
    if error.detail and error.detail != error.message:
        return f"{error.message}: {error.detail}" if error.message else error.detail
    return error.message or f"error {error.code}"
