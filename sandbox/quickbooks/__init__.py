"""Simulator of QuickBooks Online (Intuit OAuth2 and the Accounting API v3), faithful enough that the published
`python-quickbooks` and `intuit-oauth` packages work against it with only their base URLs changed.

Wire: `/.well-known/openid_sandbox_configuration` (discovery), `/connect/oauth2` (consent),
`/oauth2/v1/tokens/bearer`, `/v2/oauth2/tokens/revoke`, and `/v3/company/{realmId}/{entity|query|batch|cdc|upload}`,
all under the sandbox's `/quickbooks` mount. Control API under `/_sandbox/quickbooks` (see `control.py`).
"""

from sandbox.quickbooks.simulator import QuickBooksSimulator

__all__ = ["QuickBooksSimulator"]
