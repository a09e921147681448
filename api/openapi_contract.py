"""The published OpenAPI document: FastAPI's own, plus every problem each operation can answer.

FastAPI documents a route's success and a request-validation error in its own (non-problem) shape; the answers
that come from dependencies and middleware (no key, a support key on a tenant route, a throttled address, a body too
large or not JSON, a forged cursor, an unknown id, a replayed Idempotency-Key) would go unstated, and clients and
fuzzers would read them as breaches of the contract. They are stated here, once, from what each route is: whether it
needs an API key, has path parameters, takes a body, pages with a cursor, is a POST. A route's own `responses=`
(`web.problems.problem_responses`) keep their wording; only what they leave out is added.
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from api.constants import JSON_API_PATH_PREFIX
from api.deps import get_principal
from api.destinations import get_destination
from api.middleware import METHODS_WITH_BODY
from core.constants import IDEMPOTENCY_KEY_MAX_LENGTH, IDEMPOTENCY_TTL_SECONDS
from web.constants import CURSOR_PARAMETER
from web.problems import PROBLEM_MEDIA_TYPE, PROBLEM_SCHEMA

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
BEARER_SCHEME = "ApiKey"

_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer", "minimum": 0}}
}
_WWW_AUTHENTICATE = {
    "WWW-Authenticate": {"description": "The scheme to authenticate with.", "schema": {"type": "string"}}
}

IDEMPOTENCY_KEY_PATTERN = "^[!-~]([ -~]*[!-~])?$"
"""Printable ASCII, as `api.idempotency` takes it, with no space at either end (HTTP trims those, so the key that
arrives would not be the key that was sent)."""
IDEMPOTENCY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        f"Makes a retry safe: the same key with the same request within {IDEMPOTENCY_TTL_SECONDS // 3600} hours "
        "answers the first response again (with `Idempotent-Replayed: true`) instead of running twice; the same key "
        "with a different request is a 422, and while the first request runs, a 409. A key that is empty, longer than "
        f"{IDEMPOTENCY_KEY_MAX_LENGTH} characters or not printable ASCII is a 400."
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH,
        "pattern": IDEMPOTENCY_KEY_PATTERN,
    },
}
_REPLAYED = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the same Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}

# Status → (description, headers). Descriptions are generic; a route's own description wins.
_PROBLEMS: dict[int, tuple[str, dict[str, Any]]] = {
    400: (
        "The request is malformed: a body that is not JSON, a cursor this API did not issue, or a bad Idempotency-Key.",
        {},
    ),
    401: ("No API key, or one that is unknown, revoked or expired.", _WWW_AUTHENTICATE),
    403: ("The key may not do this (a tenant's admin key is required, or a support key reached a tenant route).", {}),
    404: ("Nothing with this id exists for this key.", {}),
    409: (
        "The request conflicts with the current state (e.g. a source connection where a destination is needed), or "
        "an Idempotency-Key is still in flight.",
        _RETRY_AFTER,
    ),
    413: ("The body is larger than the limit.", {}),
    415: ("The body is not `application/json`.", {}),
    422: (
        "A field is missing, unknown, malformed or not storable (text must not hold NUL characters); `errors` names "
        "each field. On a POST, also an Idempotency-Key already used with a different request.",
        {},
    ),
    429: ("Too many failed sign-ins from this address; see Retry-After.", _RETRY_AFTER),
    502: ("The external system answered with something unusable.", {}),
    503: ("A service this needs is not answering; try again later.", _RETRY_AFTER),
}


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return dependant.call is call or any(_depends_on(sub, call) for sub in dependant.dependencies)


def _statuses(path: str, method: str, operation: dict[str, Any], *, dependant: Dependant) -> set[int]:
    """The problems this operation can answer, from what it is."""
    statuses: set[int] = set()
    parameters = operation.get("parameters", [])
    if _depends_on(dependant, get_principal):
        statuses |= {401, 403, 429, 422}
    if _depends_on(dependant, get_destination):  # a source connection in the path
        statuses.add(409)
    if any(parameter["in"] == "path" for parameter in parameters):
        statuses |= {404, 422}
    if any(parameter["in"] == "query" for parameter in parameters):
        statuses.add(422)
    if any(parameter["in"] == "query" and parameter["name"] == CURSOR_PARAMETER for parameter in parameters):
        statuses.add(400)
    if method.upper() in METHODS_WITH_BODY and path.startswith(JSON_API_PATH_PREFIX):
        # Any body is bounded, and must be JSON; a POST may carry an Idempotency-Key (`api.idempotency`).
        statuses |= {413, 415}
        if "requestBody" in operation:
            statuses |= {400, 422}
        if method == "post":
            statuses |= {400, 409, 422}
    return statuses


def _problem_content() -> dict[str, Any]:
    return {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}


def _declare(operation: dict[str, Any], statuses: set[int]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    # FastAPI's own 422 describes its error list as plain JSON; the API answers every error as a problem.
    if "application/json" in responses.get("422", {}).get("content", {}):
        del responses["422"]
    for status in sorted(statuses):
        description, headers = _PROBLEMS[status]
        response = responses.setdefault(str(status), {"description": description})
        if headers:
            response.setdefault("headers", {}).update(headers)
    # Every problem carries the problem schema, those a route declared itself (in its own words) too.
    for code, response in responses.items():
        if code.isdigit() and int(code) >= 400:
            response["content"] = _problem_content()
            if int(code) in (429, 503):
                response.setdefault("headers", {}).update(_RETRY_AFTER)


def honours_idempotency_key(path: str, method: str, dependant: Dependant) -> bool:
    """`api.idempotency` keeps the answers of a tenant's POSTs under /v1: those of routes that take an API key."""
    return method == "post" and path.startswith(JSON_API_PATH_PREFIX) and _depends_on(dependant, get_principal)


def _declare_idempotency_key(operation: dict[str, Any]) -> None:
    operation.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
    for code, response in operation.get("responses", {}).items():
        if code.startswith("2"):
            response.setdefault("headers", {}).update(_REPLAYED)


def published_document(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    paths: dict[str, dict[str, Any]] = document.get("paths", {})
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema or route.path_format is None:
            continue
        dependant = route.original_route.dependant
        for method in route.methods or ():
            operation = paths.get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            _declare(operation, _statuses(route.path_format, method.lower(), operation, dependant=dependant))
            if honours_idempotency_key(route.path_format, method.lower(), dependant):
                _declare_idempotency_key(operation)
            if _depends_on(dependant, get_principal):
                operation["security"] = [{BEARER_SCHEME: []}]
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    components["securitySchemes"] = {
        BEARER_SCHEME: {"type": "http", "scheme": "bearer", "description": "A tenant's admin key, or a support key."}
    }
    return document


def install_published_contract(app: FastAPI) -> None:
    """Serve `published_document` as the app's `/openapi.json`, built once on first request."""
    cached: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not cached:
            cached.update(published_document(app))
        return cached

    setattr(app, "openapi", openapi)  # noqa: B010 - FastAPI's documented way to replace its document
