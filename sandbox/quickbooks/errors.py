"""QuickBooks' error bodies and the exception that carries them.

Every API error is `{"Fault": {"Error": [{"Message", "Detail", "code", "element"}], "type": …}, "time": …}`:
validation and business faults answer HTTP 400 with type `ValidationFault`; an expired or unknown access token
answers 401 (code 3200, type `AUTHENTICATION`); a token for another company 403 (code 3100); throttling 429 (code
3001, type `SERVICE`); server failures 5xx (type `SystemFault`). Inside a batch the same `Fault` object sits in the
item's `BatchItemResponse` next to its `bId`.

The token endpoint answers RFC 6749 bodies instead: `{"error": "invalid_grant"}` and friends.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.responses import JSONResponse

from sandbox.quickbooks.constants import (
    CODE_AUTHENTICATION,
    CODE_AUTHORIZATION,
    CODE_SERVER,
    CODE_THROTTLE,
    MESSAGES,
)
from sandbox.quickbooks.values import format_time


@dataclass(frozen=True, slots=True)
class ErrorItem:
    code: str
    detail: str
    element: str = ""
    message: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {
            "Message": self.message or MESSAGES.get(self.code, "Error"),
            "Detail": self.detail,
            "code": self.code,
            "element": self.element,
        }


class QboFault(Exception):
    """An answer in QuickBooks' `Fault` shape; raised anywhere below a route, rendered by the app's handler."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        element: str = "",
        status: int = 400,
        fault_type: str = "ValidationFault",
        message: str | None = None,
    ) -> None:
        super().__init__(f"{code}: {detail}")
        self.errors = [ErrorItem(code, detail, element, message)]
        self.status = status
        self.fault_type = fault_type
        self.headers: dict[str, str] = {}

    def fault(self) -> dict[str, Any]:
        return {"Error": [error.as_dict() for error in self.errors], "type": self.fault_type}

    def response(self, now: datetime) -> JSONResponse:
        return JSONResponse({"Fault": self.fault(), "time": format_time(now)}, self.status, headers=self.headers)


def authentication_fault(detail: str) -> QboFault:
    """401: the access token is missing, unknown, revoked or expired."""
    fault = QboFault(
        CODE_AUTHENTICATION,
        detail,
        status=401,
        fault_type="AUTHENTICATION",
        message="message=AuthenticationFailed; errorCode=003200; statusCode=401",
    )
    fault.headers["WWW-Authenticate"] = 'Bearer realm="Intuit", error="invalid_token"'
    return fault


def authorization_fault(realm_id: str) -> QboFault:
    """403: a valid token, but for another company (or without the accounting scope)."""
    return QboFault(
        CODE_AUTHORIZATION,
        f"The application is not authorized to access company {realm_id}",
        status=403,
        fault_type="AUTHORIZATION",
        message="message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
    )


def throttle_fault(retry_after: int) -> QboFault:
    fault = QboFault(
        CODE_THROTTLE,
        "The request limit was reached.",
        status=429,
        fault_type="SERVICE",
        message="message=ThrottleExceeded; errorCode=003001; statusCode=429",
    )
    fault.headers["Retry-After"] = str(retry_after)
    return fault


def server_fault(status: int, detail: str) -> QboFault:
    return QboFault(CODE_SERVER, detail, status=status, fault_type="SystemFault")


class OAuthError(Exception):
    """An RFC 6749 error from the token or revoke endpoint: `{"error": …, "error_description"?}`."""

    def __init__(self, error: str, status: int = 400, description: str | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.description = description

    def response(self) -> JSONResponse:
        body = {"error": self.error} | ({"error_description": self.description} if self.description else {})
        headers = {"WWW-Authenticate": 'Basic realm="Intuit"'} if self.status == 401 else None
        return JSONResponse(body, self.status, headers=headers)
