"""Where connector calls may go: the systems' own https URLs in production; the sandbox only on development and
test machines.

Every connector call carries credentials (OAuth client secrets, Intacct sender and user passwords), so the base URL
is a secret's destination. `LEDGERLINE_SANDBOX_URL` redirects every system at once, which is what the demo and the
tests want and what production must never do: it is refused outside `LOCAL_ENVS`, when URLs are resolved and at
start-up (`check_connector_urls`), so a misconfigured deployment stops before its first call. The specs' own URLs
are https by validation (`connectors.spec`); addresses taken from answers are checked by `connectors.answer_urls`.
"""

from connectors.constants import ENV_VARIABLE, LOCAL_ENVS, SANDBOX_URL_VARIABLE
from connectors.registry import available_systems
from connectors.spec import load_spec
from core.settings import Settings


class UnsafeConnectorUrlError(ValueError):
    """The settings would send connector calls somewhere production must not. The message never repeats the URL:
    it may carry credentials of its own."""


def sandbox_base(settings: Settings) -> str | None:
    """The sandbox base URL when one is configured on a machine allowed to use it; refused anywhere else."""
    if not settings.sandbox_url:
        return None
    if settings.env not in LOCAL_ENVS:
        raise UnsafeConnectorUrlError(
            f"{SANDBOX_URL_VARIABLE} is set while {ENV_VARIABLE}={settings.env}: production never sends connector "
            f"calls (and the credentials they carry) to the sandbox. Unset {SANDBOX_URL_VARIABLE}, or set "
            f"{ENV_VARIABLE} to one of {', '.join(sorted(LOCAL_ENVS))} on a development machine."
        )
    return settings.sandbox_url


def check_connector_urls(settings: Settings) -> None:
    """Refuse to start with settings that would send any connector somewhere unsafe (`UnsafeConnectorUrlError`)."""
    sandbox_base(settings)
    for system in available_systems():
        load_spec(system)  # its URLs are https, or it does not load
