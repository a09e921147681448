"""REST API: `/v1` routers, dependencies, problem+json errors, pagination and idempotency keys."""

from api.health import router as health_router
from api.idempotency import IdempotencyMiddleware
from api.json_body import JsonBodyMiddleware
from api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from api.openapi_contract import install_published_contract
from api.router import v1
from api.storable_text import StorableTextMiddleware
from web.problems import install_problem_handlers

__all__ = [
    "BodyLimitMiddleware",
    "IdempotencyMiddleware",
    "JsonBodyMiddleware",
    "RequestContextMiddleware",
    "StorableTextMiddleware",
    "health_router",
    "install_problem_handlers",
    "install_published_contract",
    "v1",
]
