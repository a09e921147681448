"""Addresses taken from a system's answers (an Intacct session's endpoint, a Fyle download URL) are called only when
the connector's spec allows them.

A system's answer is not our configuration: a compromised or spoofed answer could point the connector, with the
shared Intacct sender password or simply from inside our network, at any address. So an answered URL must either
share the origin of one of the connection's resolved URLs (vetted when they were resolved: the spec's https URLs, or
the sandbox on a development or test machine, `connectors.url_policy`), or be https on a host the spec lists in
`answer_hosts` (or a host of its own `urls`). Anything else is refused before a byte is sent.
"""

from collections.abc import Mapping

import httpx

from connectors.constants import SECURE_SCHEME, UNTRUSTED_ADDRESS_CODE
from connectors.spec import ConnectorSpec
from core.errors import ValidationError

_WILDCARD = "*."


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


def _host_allowed(host: str, patterns: tuple[str, ...]) -> bool:
    for pattern in patterns:
        if pattern.startswith(_WILDCARD):
            if host.endswith(pattern[1:]) and host != pattern[len(_WILDCARD) :]:
                return True
        elif host == pattern:
            return True
    return False


def check_answer_url(url: object, *, spec: ConnectorSpec, resolved: Mapping[str, str], what: str) -> str:
    """`url` when the connector may call it; a non-retriable `ValidationError` (code `untrusted_address`) saying
    which host was refused (never the whole URL: signed URLs carry their signature in the query) otherwise."""
    try:
        parsed = httpx.URL(str(url))
        parsed.host  # noqa: B018 - decoding an IDN host raises for punycode that is not a valid name
    except (httpx.InvalidURL, UnicodeError):
        parsed = httpx.URL()
    if parsed.host and any(_origin(parsed) == _origin(httpx.URL(allowed)) for allowed in resolved.values()):
        return str(parsed)
    own_hosts = tuple(httpx.URL(allowed).host for allowed in spec.urls.values())
    if parsed.scheme == SECURE_SCHEME and _host_allowed(parsed.host, spec.answer_hosts + own_hosts):
        return str(parsed)
    shown = f"{parsed.scheme}://{parsed.host}" if parsed.host else "an unreadable address"
    raise ValidationError(
        f"{spec.display_name} answered with {what} at {shown}, which is not one of its hosts; it was not called.",
        code=UNTRUSTED_ADDRESS_CODE,
        hint=(
            f"Only https addresses on {', '.join(spec.answer_hosts + own_hosts)} are followed. If "
            f"{spec.display_name} really moved, the connector's spec.yaml needs the new host."
        ),
    )
