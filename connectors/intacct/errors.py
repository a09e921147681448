"""Intacct's `errormessage/error[errorno, description, description2, correction]` → the taxonomy of DESIGN.md.

Intacct answers almost every failure with HTTP 200 and an error list, so the text decides the class:

- credentials (XL03000006) → `AuthError`; an expired session is renewed before anyone sees it;
- rate limit (GW-0010, "rate limit") → `RateLimited`; off-line (GW-0001) → `Transient`;
- a posting date in a closed period → `PeriodClosed` naming the refused date (Intacct gives it no error number of
  its own, so the known wordings decide, `CLOSED_PERIOD_MESSAGES`); the engine may re-date the document;
- a vendor, account or dimension Intacct does not know or has deactivated → `DestinationRejected`: the document
  is well-formed but names master data the destination refuses, and the fix is in Intacct or in the mapping
  (re-import, re-map), not in how Ledgerline built the document;
- a value that cannot be valid as built (missing field, bad number or date, unbalanced entry, schema error)
  → `ValidationError`;
- anything else a function refuses → `DestinationRejected`.

`provider_code` is the errorno of the real cause (not the `Could not create … record!` trailer), the message joins
every `description2`, the hint is Intacct's `correction` unless we know a better one.
"""

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime

import httpx

from connectors.http import redact_text, request_excerpt, response_excerpt
from connectors.intacct.constants import (
    CLOSED_PERIOD_FALLBACK,
    CLOSED_PERIOD_MESSAGES,
    CODE_CONTROL_ID_USED,
    CODE_INACTIVE_REFERENCE,
    CODE_INVALID_DOCUMENT,
    CODE_INVALID_REFERENCE,
    CODE_MALFORMED,
    CODE_OFFLINE,
    CODE_QUERY_FAILED,
    CODE_REFUSED,
    CODE_RESULT_SET_EXPIRED,
    CODE_SCHEMA,
    CONTROL_ID_TEXT,
    CREATE_TRAILER_TEXT,
    DATE_FORMAT,
    DISPLAY_NAME,
    ERR_CREDENTIALS,
    ERR_DUPLICATE,
    ERR_OUTAGE,
    ERR_QUERY,
    ERR_RATE_LIMIT,
    ERR_SCHEMA,
    OFFLINE_TEXT,
    RATE_LIMIT_TEXT,
)
from connectors.intacct.envelope import ErrorDetail, Function, Result
from core.constants import REDACTED
from core.errors import (
    AuthError,
    DestinationRejected,
    Excerpt,
    LedgerlineError,
    OutcomeUnknown,
    PeriodClosed,
    RateLimited,
    Transient,
    ValidationError,
)

CLOSED_PERIOD = tuple(re.compile(pattern, re.IGNORECASE) for pattern in CLOSED_PERIOD_MESSAGES)
CLOSED_PERIOD_ANY = re.compile(CLOSED_PERIOD_FALLBACK, re.IGNORECASE)
INACTIVE = re.compile(r"\binactive\b", re.IGNORECASE)
INVALID_REFERENCE = re.compile(r"\binvalid\b|\bis not valid\b|\bis invalid\b|specified is not valid", re.IGNORECASE)
INVALID_VALUE = re.compile(
    r"required field|is not a valid (number|date)|debits and credits|cannot be earlier|must not be negative",
    re.IGNORECASE,
)
SECRET_TAIL = re.compile(r"<(?P<tag>password|sessionid)>[^<]*$", re.IGNORECASE)
"""A truncated body can end inside a secret element, where the shared redaction (whole elements only) misses it."""

PERIOD_CLOSED_HINT = (
    "The transaction date falls in a period that is closed in Sage Intacct. Reopen the period, or export with the "
    "posting date moved to the first day of the open period."
)
REFERENCE_HINT = (
    "Sage Intacct does not accept a value this document names. Activate it in Sage Intacct, or re-import the "
    "dimensions and fix the mapping."
)
AUTH_HINT = "Check the Sage Intacct user, company and password, and that the user may use Web Services."


def is_control_id_used(errors: Sequence[ErrorDetail]) -> bool:
    """The function's control id already ran (uniqueid=true): the document exists, adopt it."""
    return any(error.errorno == ERR_DUPLICATE and CONTROL_ID_TEXT in error.text.lower() for error in errors)


def already_exists(errors: Sequence[ErrorDetail]) -> bool:
    """A folder or supporting document of this name exists (an earlier attempt made it)."""
    return bool(errors) and all(error.errorno == ERR_DUPLICATE for error in errors)


def closed_period(errors: Sequence[ErrorDetail]) -> tuple[bool, date | None]:
    """Whether the errors refuse a date in a closed period, and the refused date when the message names it."""
    texts = [f"{error.description} {error.description2}" for error in errors]
    for text in texts:
        for pattern in CLOSED_PERIOD:
            if (match := pattern.search(text)) is not None:
                return True, _day(match["day"])
    return any(CLOSED_PERIOD_ANY.search(text) for text in texts), None


def _day(text: str) -> date | None:
    try:
        return datetime.strptime(text, DATE_FORMAT).date()
    except ValueError:
        return None


def classify_errors(
    errors: Sequence[ErrorDetail], *, request: Excerpt | None = None, response: Excerpt | None = None
) -> LedgerlineError:
    causes = [error for error in errors if CREATE_TRAILER_TEXT not in error.text.lower()] or list(errors)
    primary = causes[0] if causes else ErrorDetail("", "", f"{DISPLAY_NAME} refused the request.", "")
    message = "; ".join(dict.fromkeys(error.text for error in errors if error.text)) or primary.text
    closed, closed_on = closed_period(errors)
    if closed:
        return PeriodClosed(
            message,
            closed_on=closed_on,
            provider_code=primary.errorno or None,
            hint=PERIOD_CLOSED_HINT,
            request=request,
            response=response,
        )
    error_class, code, hint = _taxonomy(primary, errors)
    return error_class(
        message,
        code=code,
        provider_code=primary.errorno or None,
        hint=hint or primary.correction or None,
        request=request,
        response=response,
    )


def _taxonomy(
    primary: ErrorDetail, errors: Sequence[ErrorDetail]
) -> tuple[type[LedgerlineError], str | None, str | None]:
    """The class, code and (when ours is better than Intacct's correction) hint for an error list."""
    text = " ".join(f"{error.errorno} {error.description} {error.description2}" for error in errors).lower()
    if primary.errorno == ERR_CREDENTIALS:
        return AuthError, None, primary.correction or AUTH_HINT
    if primary.errorno == ERR_RATE_LIMIT or RATE_LIMIT_TEXT in text:
        return RateLimited, None, None
    if primary.errorno == ERR_OUTAGE or OFFLINE_TEXT in text:
        return Transient, CODE_OFFLINE, None
    if is_control_id_used(errors):
        return DestinationRejected, CODE_CONTROL_ID_USED, None
    if primary.errorno == ERR_SCHEMA:
        return ValidationError, CODE_SCHEMA, None
    if primary.errorno == ERR_QUERY:
        if "resultid" in text:  # the result set expired between pages: the import starts again
            return Transient, CODE_RESULT_SET_EXPIRED, None
        return ValidationError, CODE_QUERY_FAILED, None
    if INVALID_VALUE.search(text):
        return ValidationError, CODE_INVALID_DOCUMENT, None
    if INACTIVE.search(text):
        return DestinationRejected, CODE_INACTIVE_REFERENCE, REFERENCE_HINT
    if INVALID_REFERENCE.search(text):
        return DestinationRejected, CODE_INVALID_REFERENCE, REFERENCE_HINT
    return DestinationRejected, CODE_REFUSED, None


def function_error(function: Function, result: Result, response: httpx.Response) -> LedgerlineError:
    """One failed function, with excerpts of that function and its result (not the whole batch)."""
    return classify_errors(
        result.errors,
        request=replace(request_excerpt(response.request), body=redact_text(function.xml())),
        response=replace(response_excerpt(response), body=redact_text(result.xml())),
    )


def malformed(response: httpx.Response, *, wrote: bool, reason: str) -> LedgerlineError:
    """An answer we cannot read: harmless for a read, but a write may have been applied."""
    excerpt = response_excerpt(response)
    if excerpt.body:
        excerpt = replace(excerpt, body=SECRET_TAIL.sub(lambda match: f"<{match['tag']}>{REDACTED}", excerpt.body))
    sent = request_excerpt(response.request)
    if wrote:
        return OutcomeUnknown(
            f"{DISPLAY_NAME} answered a write with an unreadable body ({reason}); it may have been applied.",
            code=CODE_MALFORMED,
            hint="Before sending again, Ledgerline looks each document up by its reference.",
            request=sent,
            response=excerpt,
        )
    return Transient(
        f"{DISPLAY_NAME} answered with an unreadable body ({reason}).",
        code=CODE_MALFORMED,
        hint="The read is retried with backoff.",
        request=sent,
        response=excerpt,
    )
