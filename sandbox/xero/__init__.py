"""Simulator of Xero (its identity server, the connections list and the Accounting API 2.0), faithful to Xero's
published OpenAPI documents (`specs/xero/`) and enough that the published `xero-python` package works against it
with only its base URLs changed.

Wire, under the sandbox's `/xero` mount: `/identity/connect/{authorize,token,revocation}`, `/connections`,
`/api.xro/2.0/…`, and `/app/…` (a person's link to a document). Control API under `/_sandbox/xero` (`control.py`).
"""

from sandbox.xero.simulator import XeroSimulator

__all__ = ["XeroSimulator"]
