"""Which cluster an organisation lives on: Fyle serves each org from one data cluster (us1, in1, …).

The connect flow learns it from `POST /oauth/cluster` and keeps it in the connection setting `cluster_domain`;
without it the spec's default cluster is used. The spec declares it written by Ledgerline, so a person can neither
give nor change it through the API; even so it is honoured only for Fyle's own hosts (or the sandbox the connector
was pointed at): an access token must never be sent elsewhere.
"""

from collections.abc import Mapping

import httpx

from connectors.fyle.constants import CLUSTER_DOMAIN_SETTING, FYLE_DOMAIN
from connectors.spec import ConnectorSpec
from core.errors import ValidationError


def _is_fyle_host(url: httpx.URL) -> bool:
    return url.scheme == "https" and (url.host == FYLE_DOMAIN or url.host.endswith(f".{FYLE_DOMAIN}"))


def _same_origin(one: httpx.URL, other: httpx.URL) -> bool:
    return (one.scheme, one.host, one.port) == (other.scheme, other.host, other.port)


def api_base(spec: ConnectorSpec, urls: Mapping[str, str], settings: Mapping[str, object]) -> str:
    """The org's API base: its cluster origin plus the path of the spec's API URL (`/platform/v1`)."""
    cluster = str(settings.get(CLUSTER_DOMAIN_SETTING) or "").rstrip("/")
    if not cluster:
        return urls["api"]
    origin = httpx.URL(cluster)
    if not (_is_fyle_host(origin) or _same_origin(origin, httpx.URL(urls["api"]))):
        raise ValidationError(
            f"The connection's cluster_domain {cluster!r} is not a Fyle host.",
            code="cluster_domain",
            hint=f"Set cluster_domain to an https://….{FYLE_DOMAIN} origin, or remove it to use the default cluster.",
        )
    return cluster + httpx.URL(spec.urls["api"]).path
