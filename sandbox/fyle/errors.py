"""Fyle's error bodies (spec `#/components/schemas/400|401|404|500`, `bulk_error`) and the exceptions that carry them.

- 400: `{"message": "...", "data": null, "error": "InvalidUsage"}` (the spec's examples add `data` and `error`);
- 400 on a bulk write: `{"message": "...", "data": [{"row", "key", "message"}], "error": "BulkError"}`;
- 401: `{"message": "invalid token"}`; 403: `{"message": "Forbidden"}`; 404: `{"message": "Resource not found"}`;
- 5xx: `{"message": "..."}`; 429 (not in the spec): `{"message": "Too many requests", …}` with `Retry-After`.
"""

from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse

INVALID_TOKEN = "invalid token"  # noqa: S105 - an error message, not a secret
NOT_FOUND = "Resource not found"
FORBIDDEN = "Forbidden"


@dataclass(frozen=True, slots=True)
class BulkRowError:
    row: int
    key: str | int
    message: str


class FyleError(Exception):
    """An error the simulator answers in Fyle's own shape."""

    status = 400

    def __init__(self, message: str, *, error: str = "InvalidUsage") -> None:
        super().__init__(message)
        self.error = error

    def body(self) -> dict[str, Any]:
        return {"message": str(self), "data": None, "error": self.error}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status)


class BadRequest(FyleError):
    """A malformed request; on the token endpoint `error` is the RFC 6749 code (`invalid_request`, …)."""


class BulkError(FyleError):
    def __init__(self, rows: list[BulkRowError]) -> None:
        super().__init__(f"{len(rows)} row(s) could not be processed", error="BulkError")
        self.rows = rows

    def body(self) -> dict[str, Any]:
        data = [{"row": row.row, "key": row.key, "message": row.message} for row in self.rows]
        return {"message": str(self), "data": data, "error": self.error}


class InvalidToken(FyleError):
    status = 401

    def __init__(self, oauth_error: str | None = None) -> None:
        super().__init__(INVALID_TOKEN)
        self.oauth_error = oauth_error

    def body(self) -> dict[str, Any]:
        """The spec's 401 body; on the token endpoint also the RFC 6749 `error`, which OAuth2 clients act on."""
        if self.oauth_error is None:
            return {"message": INVALID_TOKEN}
        return {"message": INVALID_TOKEN, "error": self.oauth_error}


class NotFound(FyleError):
    status = 404

    def __init__(self) -> None:
        super().__init__(NOT_FOUND)

    def body(self) -> dict[str, Any]:
        return {"message": NOT_FOUND}


def message_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status, headers=headers)
