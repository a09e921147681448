"""Xero's refusals → the taxonomy of DESIGN.md.

- A whole request refused: 400 `{"ErrorNumber": 10, "Type": "ValidationException", "Message", "Elements": [{…,
  "ValidationErrors": [{"Message"}]}]}`; with `summarizeErrors=false` a 200 whose items carry `HasErrors` and their
  own `ValidationErrors`. Both are read by `classify_messages`:
  - a date in a locked period ("The document date cannot be before the period lock date, currently set at
    30-Nov-2018", or the end of year lock date) → `PeriodClosed`, its first open day the day after the later lock
    date (`with_first_open_day`, from GET Organisation);
  - an account, contact, tax rate, item or tracking option Xero does not know or has archived →
    `DestinationRejected` (the fix is in Xero or the mappings);
  - anything else → `ValidationError` (the document cannot be valid as sent).
- 401 (token refused after the auth flow refreshed) and 403 (the organisation disconnected the app:
  AuthorizationUnsuccessful) → `AuthError`.
- 400 for a key used before with another request → `ValidationError` coded `idempotency_key_reused`, which the push
  settles by looking its documents up (`pushing.py`);
- 409 → `Transient` coded `idempotency_key_in_progress` (a write's: `OutcomeUnknown`): a request under the same key
  is still running, so its documents may yet be created and no lookup can prove them absent now;
- 429 → `RateLimited` until Retry-After; a day limit (`X-Rate-Limit-Problem: day`) until the day's allowance returns
  (Retry-After, else the next UTC midnight), so the engine defers the connection rather than burning attempts.
"""

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from connectors.http import request_excerpt, response_excerpt
from connectors.xero.constants import (
    CODE_DAY_LIMIT,
    CODE_INVALID_DOCUMENT,
    CODE_KEY_IN_PROGRESS,
    CODE_KEY_REUSED,
    CODE_REJECTED,
    DAY_PROBLEM,
    DISPLAY_NAME,
    KEY_REUSED_WORDS,
    LOCK_DATE_WORDS,
    RATE_PROBLEM_HEADER,
)
from core.errors import (
    AuthError,
    DestinationRejected,
    Excerpt,
    LedgerlineError,
    PeriodClosed,
    RateLimited,
    Transient,
    ValidationError,
)

REJECTED_WORDS = ("not a valid", "archived", "does not exist", "could not be found", "has been deleted", "inactive")
"""What Xero says of an object a document names that it does not know (any more)."""
LOCKED_AT = re.compile(r"currently set at (\d{1,2})[- ]([A-Za-z]{3})[- ](\d{4})")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
HINT_LOCKED = (
    "The document's date is on or before the organisation's lock date. Move the lock date in Xero (Accounting > "
    "Advanced > Financial settings), or turn on posting to the first open day in the export settings."
)
HINT_REJECTED = "Xero does not know (or has archived) an object the document names. Re-import and re-map, then replay."


def validation_messages(body: Any) -> list[str]:
    """Every ValidationErrors message of an error body or of one answered item."""
    if not isinstance(body, Mapping):
        return []
    messages = [
        str(error.get("Message"))
        for error in body.get("ValidationErrors") or []
        if isinstance(error, Mapping) and error.get("Message")
    ]
    for element in body.get("Elements") or []:
        messages += validation_messages(element)
    return messages


def classify_messages(
    messages: Sequence[str], *, request: Excerpt | None = None, response: Excerpt | None = None
) -> LedgerlineError:
    """The class of a refusal Xero explained with these messages."""
    if not messages:
        return ValidationError(
            f"{DISPLAY_NAME} refused the document without saying why.",
            code=CODE_INVALID_DOCUMENT,
            request=request,
            response=response,
        )
    text = "; ".join(dict.fromkeys(messages))
    lowered = text.lower()
    common: dict[str, Any] = {"request": request, "response": response}
    if LOCK_DATE_WORDS in lowered:
        return PeriodClosed(
            f"{DISPLAY_NAME}: {text}", hint=HINT_LOCKED, first_open_day=_after_named_lock(text), **common
        )
    if any(words in lowered for words in REJECTED_WORDS):
        return DestinationRejected(f"{DISPLAY_NAME}: {text}", code=CODE_REJECTED, hint=HINT_REJECTED, **common)
    return ValidationError(f"{DISPLAY_NAME}: {text}", code=CODE_INVALID_DOCUMENT, **common)


def _after_named_lock(text: str) -> date | None:
    """The day after the latest lock date a message names ("currently set at 30-Nov-2018"), if it names one."""
    days: list[date] = []
    for day, month, year in LOCKED_AT.findall(text):
        if month.lower() in MONTHS:
            days.append(date(int(year), MONTHS.index(month.lower()) + 1, int(day)))
    return max(days) + timedelta(days=1) if days else None


def with_first_open_day(error: LedgerlineError, *, refused: date, lock_dates: Sequence[date]) -> LedgerlineError:
    """A lock-date refusal naming the refused date and the first day Xero accepts: the day after the later of the
    organisation's period and end-of-year lock dates (else what the message said)."""
    if not isinstance(error, PeriodClosed):
        return error
    first_open = max(lock_dates) + timedelta(days=1) if lock_dates else error.first_open_day
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


def classify_response(response: httpx.Response) -> LedgerlineError | None:
    """Xero's own refusals: a 400 by its messages, a 403, a day's 429. None for what HTTP semantics name (the base
    class)."""
    status = response.status_code
    sent, answer = request_excerpt(response.request), response_excerpt(response)
    if status == httpx.codes.BAD_REQUEST:
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        messages = validation_messages(body)
        if not messages and isinstance(body, Mapping) and body.get("Message"):
            messages = [str(body["Message"])]
        if any(KEY_REUSED_WORDS in message.lower() for message in messages):
            return ValidationError(
                f"{DISPLAY_NAME}: {'; '.join(messages)}", code=CODE_KEY_REUSED, request=sent, response=answer
            )
        return classify_messages(messages, request=sent, response=answer)
    if status == httpx.codes.CONFLICT:
        return Transient(
            f"{DISPLAY_NAME} is still working on a request under the same Idempotency-Key (409).",
            code=CODE_KEY_IN_PROGRESS,
            provider_code=str(status),
            hint="Ledgerline looks the documents up again before sending them, under the same key.",
            request=sent,
            response=answer,
        )
    if status == httpx.codes.FORBIDDEN:
        return AuthError(
            f"{DISPLAY_NAME} refused access to the organisation (403): the app was disconnected from it, or the user "
            "lost access.",
            provider_code=str(status),
            hint="Connect Xero again and tick this organisation.",
            request=sent,
            response=answer,
        )
    if status == httpx.codes.TOO_MANY_REQUESTS and response.headers.get(RATE_PROBLEM_HEADER, "").lower() == DAY_PROBLEM:
        return RateLimited(
            f"{DISPLAY_NAME}'s daily call allowance for the organisation is used up.",
            retry_at=_day_reset(response),
            code=CODE_DAY_LIMIT,
            provider_code=str(status),
            hint="The connection waits until Xero's daily allowance returns; nothing is lost.",
            request=sent,
            response=answer,
        )
    return None


def _day_reset(response: httpx.Response) -> datetime:
    now = datetime.now(UTC)
    after = response.headers.get("Retry-After", "").strip()
    if after.isdigit():
        return now + timedelta(seconds=int(after))
    return datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
