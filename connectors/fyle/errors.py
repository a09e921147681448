"""Reading Fyle's error bodies (admin.yaml `#/components/schemas/400`, `bulk_error`).

- `{"message": "...", "data": null, "error": "InvalidUsage"}`: the request as a whole is wrong;
- `{"message": "2 row(s) could not be processed", "data": [{"row", "key", "message"}], "error": "BulkError"}`:
  a bulk write refused, all or nothing; the rows say which and why, so the message carries them.
"""

from typing import Any

import httpx

from connectors.http import response_excerpt
from core.errors import ValidationError

REFUSAL_HINT = "Fyle refused the data as sent; the message says which record and field."


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _row_problems(data: object) -> list[str]:
    if not isinstance(data, list):
        return []
    return [f"row {row.get('row')} ({row.get('key')}): {row.get('message')}" for row in data if isinstance(row, dict)]


def refusal(response: httpx.Response) -> ValidationError:
    """A 4xx answer (other than auth and rate limits) as a `ValidationError` carrying Fyle's own message."""
    body = _body(response)
    message = str(body.get("message") or f"Fyle refused the request ({response.status_code}).")
    problems = _row_problems(body.get("data"))
    return ValidationError(
        f"{message}: {'; '.join(problems)}" if problems else message,
        provider_code=str(body.get("error") or response.status_code),
        hint=REFUSAL_HINT,
        response=response_excerpt(response),
    )
