"""RFC 9457 problem details: every error the API returns has this shape and a human message.

Validation errors never echo the submitted values back: a rejected body may hold a secret.
"""

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.log import get_logger

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://ledgerline.dev/problems/"

log = get_logger(__name__)


class Problem(Exception):
    """Raise from anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        problem: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.problem = problem or HTTPStatus(status).phrase.lower().replace(" ", "-")
        self.title = title or HTTPStatus(status).phrase
        self.headers = headers
        self.extensions = extensions


def problem_response(
    status: int,
    detail: str,
    *,
    problem: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    instance: str | None = None,
    **extensions: Any,
) -> Response:
    slug = problem or HTTPStatus(status).phrase.lower().replace(" ", "-")
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extensions)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What went wrong and what to do, for a person."},
        "instance": {"type": "string"},
    },
    "additionalProperties": True,
}


def problem_responses(described: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem documents a route answers with, so the document names them (a route's
    `responses=`); FastAPI would otherwise list only its success and its request validation error."""
    return {
        status: {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}}
        for status, description in described.items()
    }


def _field_path(location: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in location if part != "body") or "body"


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(
        exc.status,
        exc.detail,
        problem=exc.problem,
        title=exc.title,
        headers=exc.headers,
        instance=request.url.path,
        **exc.extensions,
    )


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        return problem_response(
            400,
            "The request body is not valid JSON.",
            problem="malformed-json",
            title="Malformed JSON",
            instance=request.url.path,
        )
    fields = [
        {"field": _field_path(error.get("loc", ())), "message": error.get("msg", "invalid"), "type": error.get("type")}
        for error in errors
    ]
    summary = "; ".join(f"{field['field']}: {field['message']}" for field in fields[:5])
    return problem_response(
        422,
        f"The request is not valid: {summary}.",
        problem="validation-failed",
        title="Validation failed",
        instance=request.url.path,
        errors=fields,
    )


def allowed_methods(request: Request) -> list[str]:
    """Every method some route at this path answers. Starlette's own `Allow` names only the first route whose path
    matched, and FastAPI makes one route per method, so `PATCH /v1/connections/{id}` went unmentioned on a 405."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        pattern = getattr(route, "path_regex", None)
        if route.methods and pattern is not None and pattern.match(request.url.path):
            methods |= route.methods
    return sorted(methods)


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"Nothing is found at {request.url.path}."
    elif exc.status_code == 405 and detail == "Method Not Allowed":
        allowed = allowed_methods(request)
        detail = f"{request.method} is not allowed on {request.url.path}; it answers {', '.join(allowed)}."
        headers = {**(headers or {}), "Allow": ", ".join(allowed)}
    return problem_response(exc.status_code, detail, headers=headers, instance=request.url.path)


async def _on_unhandled(request: Request, exc: Exception) -> Response:
    log.exception("unhandled_error", path=request.url.path)
    return problem_response(
        500,
        "Something went wrong on our side. It has been logged; quote the request id when you report it.",
        instance=request.url.path,
        request_id=getattr(request.state, "request_id", None),
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(Exception, _on_unhandled)
