"""`GET /_sandbox/fyle/demo`: how `ledgerline demo` connects to this simulator, as a person would have on its consent
page: the seeded OAuth client (Ledgerline's app credentials) and the seeded grant's refresh token. What only this
simulator knows stays here; the demo reads it as data."""

from typing import Any

from fastapi import APIRouter

from sandbox.fyle.constants import FYLE_SANDBOX_CLIENT_ID, FYLE_SANDBOX_CLIENT_SECRET, FYLE_SANDBOX_REFRESH_TOKEN


def build_demo_router() -> APIRouter:
    router = APIRouter()

    @router.get("")
    async def demo_seed() -> dict[str, Any]:
        """The app credentials, and the grant a consent would have given (no callback parameters: the org's
        cluster is asked for with the tokens)."""
        return {
            "app": {"client_id": FYLE_SANDBOX_CLIENT_ID, "client_secret": FYLE_SANDBOX_CLIENT_SECRET},
            "connect": {"refresh_token": FYLE_SANDBOX_REFRESH_TOKEN, "callback": {}},
        }

    return router
