"""REST API: `/v1` routers, dependencies, problem+json errors, pagination and idempotency keys."""

from api.health import router as health_router
from api.idempotency import IdempotencyMiddleware
from api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from api.problems import install_problem_handlers
from api.router import v1
from api.storable_text import StorableTextMiddleware

__all__ = [
    "BodyLimitMiddleware",
    "IdempotencyMiddleware",
    "RequestContextMiddleware",
    "StorableTextMiddleware",
    "health_router",
    "install_problem_handlers",
    "v1",
]
