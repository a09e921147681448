"""`/_sandbox/xero/webhooks…`: steer the simulator's one webhook subscription and see what it sent.

- `PUT    /webhooks`                    `{"url", "key"?, "verified"?, "batch_seconds"?, "retry_delays_seconds"?,
                                        "timeout_seconds"?}`: the subscription (a key is made when none is given,
                                        as Xero makes one; it is shown here, the one place Xero shows it)
- `GET    /webhooks`, `DELETE /webhooks`
- `POST   /webhooks/intent-to-receive`  run Xero's check now; the subscription sends events only once it passed
- `POST   /webhooks/flush`              post every organisation's waiting changes now, without the batching wait
- `GET    /webhooks/deliveries`         every attempt, events and intent-to-receive alike
"""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat

from sandbox.xero.webhooks import MAX_RETRIES, RESPONSE_DEADLINE_SECONDS, XeroWebhookDispatcher


class WebhookSubscription(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048)
    key: str | None = Field(default=None, min_length=1, max_length=256)
    verified: bool = Field(default=False, description="Skip intent-to-receive: events are sent at once.")
    batch_seconds: NonNegativeFloat | None = Field(default=None, le=600)
    retry_delays_seconds: list[NonNegativeFloat] | None = Field(default=None, max_length=MAX_RETRIES)
    timeout_seconds: float | None = Field(default=None, gt=0, le=RESPONSE_DEADLINE_SECONDS)


def _listing(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"items": items, "count": len(items)}


def build_webhook_router(dispatcher: Callable[[], XeroWebhookDispatcher]) -> APIRouter:
    """`dispatcher`: the simulator's current dispatcher, read per request so a reset may replace it."""
    router = APIRouter()

    @router.put("/webhooks")
    async def configure(request: WebhookSubscription) -> dict[str, Any]:
        if not request.url.startswith(("http://", "https://")):
            raise HTTPException(422, "url must be an absolute http(s) URL")
        delays = tuple(request.retry_delays_seconds) if request.retry_delays_seconds is not None else None
        config = dispatcher().configure(
            url=request.url,
            key=request.key,
            verified=request.verified,
            batch_seconds=request.batch_seconds,
            retry_delays_seconds=delays,
            timeout_seconds=request.timeout_seconds,
        )
        return config.as_dict()

    @router.get("/webhooks")
    async def subscription() -> dict[str, Any]:
        current = dispatcher()
        if current.config is None:
            raise HTTPException(404, "no webhook subscription; PUT one first")
        return current.config.as_dict() | {"pending": current.pending(), "skipped": current.skipped}

    @router.delete("/webhooks", status_code=204)
    async def remove() -> None:
        if not dispatcher().remove():
            raise HTTPException(404, "no webhook subscription")

    @router.post("/webhooks/intent-to-receive")
    async def intent_to_receive() -> dict[str, Any]:
        try:
            report = await dispatcher().intent_to_receive()
        except LookupError as missing:
            raise HTTPException(404, str(missing)) from None
        return report.as_dict()

    @router.post("/webhooks/flush")
    async def flush() -> dict[str, Any]:
        return _listing([delivery.as_dict() for delivery in await dispatcher().flush()])

    @router.get("/webhooks/deliveries")
    async def deliveries() -> dict[str, Any]:
        return _listing([delivery.as_dict() for delivery in dispatcher().deliveries()])

    return router
