"""`POST /webhooks/{provider}/{connection_key}` and, for systems posting to one address per app (QuickBooks Online),
`POST /webhooks/{provider}`: mounted at the root, outside `/v1` (senders do not send API keys; the signature is the
authentication, and the key in the URL, or the accounts a delivery names, pick the connections)."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.background import BackgroundTask

from core.caller_address import caller_scope
from core.metrics import WEBHOOKS
from web.problems import Problem, problem_response
from webhooks.app_ingress import AppDelivery, AppWebhookIngress
from webhooks.constants import UNKNOWN_SOURCE
from webhooks.ingress import Delivery, WebhookIngress
from webhooks.providers import PROVIDERS

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

REFUSALS = {
    400: "malformed",
    401: "unauthorized",
    404: "not_found",
    415: "unsupported_media_type",
    429: "throttled",
    503: "unavailable",
}
"""`ledgerline_webhooks_total` outcomes of refused deliveries. Bodies over 1 MiB never reach the route: the request
size limit refuses them first (counted as 413 in `ledgerline_http_requests_total`)."""


@router.post(
    "/{provider}/{connection_key}",
    status_code=202,
    summary="Receive a webhook",
    responses={
        200: {"description": "A redelivery of an event already stored (acknowledged, dropped), or a handshake."},
        202: {"description": "Stored; it will be handled shortly."},
        400: {"description": "The body is not JSON, or cannot be stored."},
        401: {"description": "Missing, wrong or stale signature."},
        404: {"description": "Unknown provider, or no connection of that provider at this address."},
        413: {"description": "The body is larger than 1 MiB."},
        415: {"description": "Not application/json."},
        429: {
            "description": "Too many deliveries, too many events waiting, or too many failed deliveries from this "
            "address lately; see Retry-After."
        },
        503: {"description": "The database is not answering; see Retry-After."},
    },
    # Read as raw bytes (the signature covers them), so FastAPI cannot see the body; the document still says it.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object", "description": "The sender's event."}}},
        }
    },
)
async def receive_webhook(provider: str, connection_key: str, request: Request) -> JSONResponse:
    ingress: WebhookIngress = request.app.state.webhook_ingress
    counted = provider if provider in PROVIDERS else "unknown"  # never a label per made-up path
    try:
        receipt = await ingress.receive(
            delivery=Delivery(
                provider=provider,
                connection_key=connection_key,
                headers=request.headers,
                body=await request.body(),
                content_type=request.headers.get("content-type"),
                source=caller_scope(request.client.host) if request.client else UNKNOWN_SOURCE,
            )
        )
    except Problem as refused:
        WEBHOOKS.labels(counted, REFUSALS.get(refused.status, str(refused.status))).inc()
        raise
    WEBHOOKS.labels(counted, receipt.outcome).inc()
    # After the response is sent: the sender has its answer, and the connection takes its next request meanwhile.
    announce = BackgroundTask(ingress.announce, receipt=receipt) if receipt.event_row_id is not None else None
    return JSONResponse({"outcome": receipt.outcome}, status_code=receipt.status, background=announce)


@router.post(
    "/{provider}",
    status_code=202,
    summary="Receive a webhook for every connection of an app",
    description="For systems that post every company's changes to one address per app, signed with one secret "
    "(QuickBooks Online: register `{base}/webhooks/quickbooks` with Intuit). Each part of a delivery is stored as an "
    "event of the connections of the account it names; an account no connection holds is acknowledged and dropped.",
    responses={
        200: {
            "description": "Nothing new: every part was stored before or names an account no connection holds; or "
            "the delivery is the sender checking the address (a handshake, answered with an empty body)."
        },
        202: {"description": "Stored for the connections of the accounts it names; handled shortly."},
        400: {"description": "The body is not JSON, not a delivery of that system, or cannot be stored."},
        401: {"description": "Missing or wrong signature, or no secret configured for the system."},
        404: {"description": "Unknown provider, or one that posts to a connection's own address."},
        413: {"description": "The body is larger than 1 MiB."},
        415: {"description": "Not application/json."},
        429: {
            "description": "A connection it names takes no more now (rate, inbox; the other parts were stored), the "
            "database pool is busy, or too many failed deliveries came from this address lately; see Retry-After."
        },
        503: {"description": "The database is not answering; see Retry-After."},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"description": "The sender's delivery (object or array)."}}},
        }
    },
)
async def receive_app_webhook(provider: str, request: Request) -> Response:
    ingress: AppWebhookIngress = request.app.state.app_webhook_ingress
    counted = provider if provider in PROVIDERS else "unknown"
    try:
        receipt = await ingress.receive(
            delivery=AppDelivery(
                provider=provider,
                headers=request.headers,
                body=await request.body(),
                content_type=request.headers.get("content-type"),
                source=caller_scope(request.client.host) if request.client else UNKNOWN_SOURCE,
            )
        )
    except Problem as refused:
        WEBHOOKS.labels(counted, REFUSALS.get(refused.status, str(refused.status))).inc()
        raise
    WEBHOOKS.labels(counted, receipt.outcome).inc()
    if receipt.empty:  # a handshake, or a system that takes 200 with no body and nothing else
        announced = BackgroundTask(ingress.announce, receipt=receipt) if receipt.stored else None
        return Response(status_code=200, background=announced)
    announce = BackgroundTask(ingress.announce, receipt=receipt) if receipt.stored else None
    if receipt.retry_after is None:
        return JSONResponse(receipt.as_body(), status_code=receipt.status, background=announce)
    # Some parts were stored (and are announced), others held back: a problem, so the sender delivers it again.
    answer = problem_response(
        receipt.status,
        "A connection this delivery names takes no more deliveries now (its rate, or its waiting events); the other "
        "parts were stored. Send the delivery again after the indicated delay: what was stored is not stored twice.",
        problem="held-back",
        headers={"Retry-After": str(receipt.retry_after)},
        **receipt.as_body(),
    )
    answer.background = announce
    return answer
