"""Xero's error answers.

- 400 validation: `{"ErrorNumber": 10, "Type": "ValidationException", "Message": "A validation exception occurred",
  "Elements": [{…the document as sent…, "ValidationErrors": [{"Message": …}]}]}`.
- 401/403 from Xero's API gateway: `{"Type": null, "Title": "Unauthorized", "Status": 401,
  "Detail": "AuthenticationUnsuccessful", "Instance": <uuid>, "Extensions": {}}` (403: `Forbidden`,
  `AuthorizationUnsuccessful`).
- 404: a plain text body, `The resource you're looking for cannot be found`.
- 429: `Retry-After`, `X-Rate-Limit-Problem`; 5xx: Xero's `{"ErrorNumber", "Type", "Message"}`.
- OAuth errors are RFC 6749's: `{"error": "invalid_grant"}`.
"""

import uuid
from typing import Any

from starlette.responses import JSONResponse, PlainTextResponse, Response

from sandbox.xero.constants import PROBLEM_HEADER

VALIDATION_NUMBER = 10
POSTDATA_NUMBER = 14
NOT_FOUND_TEXT = "The resource you're looking for cannot be found"


class XeroError(Exception):
    """A request refused before any document was touched."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class OAuthError(Exception):
    def __init__(self, error: str, status: int = 400, description: str | None = None) -> None:
        super().__init__(error)
        self.error, self.status, self.description = error, status, description

    def response(self) -> JSONResponse:
        body = {"error": self.error} | ({"error_description": self.description} if self.description else {})
        return JSONResponse(body, self.status)


def validation_body(elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "ErrorNumber": VALIDATION_NUMBER,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": elements,
    }


def validation_error(*messages: str, element: dict[str, Any] | None = None) -> XeroError:
    """A 400 naming what is wrong with one document (or the request as a whole)."""
    errors = [{"Message": message} for message in messages]
    return XeroError(JSONResponse(validation_body([(element or {}) | {"ValidationErrors": errors}]), 400))


def bad_request(message: str) -> XeroError:
    """A malformed request (unknown where field, unreadable body) — Xero's ValidationException with no element."""
    body = {"ErrorNumber": VALIDATION_NUMBER, "Type": "ValidationException", "Message": message}
    return XeroError(JSONResponse(body, 400))


def _gateway(status: int, title: str, detail: str) -> JSONResponse:
    body: dict[str, Any] = {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }
    return JSONResponse(body, status)


def unauthorized() -> XeroError:
    return XeroError(_gateway(401, "Unauthorized", "AuthenticationUnsuccessful"))


def forbidden() -> XeroError:
    return XeroError(_gateway(403, "Forbidden", "AuthorizationUnsuccessful"))


def not_found() -> XeroError:
    return XeroError(PlainTextResponse(NOT_FOUND_TEXT, 404))


def rate_limited(retry_after: int, problem: str, headers: dict[str, str] | None = None) -> Response:
    all_headers = {"Retry-After": str(retry_after), PROBLEM_HEADER: problem} | (headers or {})
    return PlainTextResponse("Rate limit exceeded", 429, headers=all_headers)


def server_error(status: int, message: str) -> Response:
    body: dict[str, Any] = {"ErrorNumber": 500, "Type": "ServerErrorException", "Message": message}
    if status == 503:
        body = {"ErrorNumber": 503, "Type": "ServiceUnavailableException", "Message": message}
    return JSONResponse(body, status)
