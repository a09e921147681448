"""Who may scrape metrics: they count every tenant's work, so outside a development or test machine only a bearer of
`LEDGERLINE_METRICS_TOKEN` may, and nobody while it is unset. The API's `/metrics` and a worker's metrics port ask
the same question here, so neither is the open side door of the other.
"""

import hmac
import os
from dataclasses import dataclass, field

from core.constants import METRICS_TOKEN_VARIABLE, OPEN_METRICS_ENVS


@dataclass(frozen=True, slots=True)
class ScrapeRefusal:
    status: int
    problem: str
    detail: str
    headers: dict[str, str] = field(default_factory=dict)


def metrics_token() -> str | None:
    """The scrape token, read from the environment on each scrape so a rotation needs no restart."""
    return os.environ.get(METRICS_TOKEN_VARIABLE) or None


def scrape_refusal(*, env: str, authorization: str) -> ScrapeRefusal | None:
    """Why a scrape with this `Authorization` header is refused, or None when it may read the metrics."""
    token = metrics_token()
    if token is None:
        if env in OPEN_METRICS_ENVS:
            return None
        return ScrapeRefusal(
            403,
            "metrics-token-unset",
            f"Metrics are served only to a scraper with a token: set {METRICS_TOKEN_VARIABLE} and scrape with "
            "`Authorization: Bearer <token>`.",
        )
    scheme, _, offered = authorization.partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(offered.strip().encode(), token.encode()):
        return None
    return ScrapeRefusal(
        401,
        "metrics-token-required",
        f"Scrape metrics with `Authorization: Bearer <token>`, the token in {METRICS_TOKEN_VARIABLE}.",
        {"WWW-Authenticate": 'Bearer realm="metrics"'},
    )
