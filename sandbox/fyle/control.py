"""`/_sandbox/fyle/...`: what tests and the demo use to steer the simulator and see what a client did to it.

- `GET  /credentials`                  the seeded client, refresh token and wire URLs
- `GET  /settings`, `PUT /settings`    token and code TTLs, webhook retry delays and timeout
- `POST /refresh_tokens/revoke`        `{"refresh_token"}`: the next refresh with it fails
- `POST /reports/{id}/state`           `{"state"}`: move a report (its expenses follow; subscribers are told)
- `POST /webhooks`, `GET /webhooks`, `DELETE /webhooks/{id}`   subscribe `{"url", "secret"?}` (secret `whsec_…`)
- `GET  /webhooks/deliveries`          every delivery attempt, oldest first
- `GET  /writes?kind=`                 what clients wrote: categories, projects, cost_centers, files, file_uploads,
                                       expense_export_summaries, report_export_summaries, reports_mark_paid
- `POST /generate`                     `{"expenses": N, "state", "per_report"}`: add N expenses quickly
- `GET  /counts`                       how many records of each kind
"""

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from sandbox.fyle.constants import (
    API_BASE_PATH,
    AUTHORIZE_PATHS,
    FYLE_SANDBOX_CLIENT_ID,
    FYLE_SANDBOX_CLIENT_SECRET,
    FYLE_SANDBOX_REFRESH_TOKEN,
    GENERATE_PER_REPORT,
    MAX_EXPENSES_PER_REPORT,
    MAX_GENERATE,
    REPORT_STATES,
    SYSTEM_NAME,
    UNREPORTED_EXPENSE_STATE,
)
from sandbox.fyle.demo import build_demo_router
from sandbox.fyle.errors import FyleError
from sandbox.fyle.oauth import is_absolute_http_url
from sandbox.fyle.render_report import report_out
from sandbox.fyle.seed import generate_expenses
from sandbox.fyle.settings import FyleSettings, FyleSettingsUpdate
from sandbox.fyle.state import FyleState
from sandbox.fyle.webhooks import valid_secret
from sandbox.fyle.workflow import move_report


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str


class ReportMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: str


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    secret: str | None = Field(default=None, description="`whsec_<base64>`; generated when left out.")


class GenerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expenses: int = Field(ge=1, le=MAX_GENERATE)
    state: str = Field(default="PAYMENT_PROCESSING", description="A report state, or COMPLETE for unreported.")
    per_report: int = Field(default=GENERATE_PER_REPORT, ge=1, le=MAX_EXPENSES_PER_REPORT)


def _listing(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"count": len(items), "data": items}


def build_control_router(state: FyleState) -> APIRouter:
    router = APIRouter()

    @router.get("/credentials")
    async def credentials(request: Request) -> dict[str, str]:
        base = f"{request.url.scheme}://{request.url.netloc}/{SYSTEM_NAME}"
        return {
            "client_id": FYLE_SANDBOX_CLIENT_ID,
            "client_secret": FYLE_SANDBOX_CLIENT_SECRET,
            "refresh_token": FYLE_SANDBOX_REFRESH_TOKEN,
            "token_url": f"{base}/oauth/token",
            "authorize_url": f"{base}{AUTHORIZE_PATHS[0]}",
            "cluster_domain": base,
            "server_url": f"{base}{API_BASE_PATH}",
        }

    @router.get("/settings")
    async def read_settings() -> FyleSettings:
        return state.settings

    @router.put("/settings")
    async def change_settings(update: FyleSettingsUpdate) -> FyleSettings:
        return state.update_settings(update)

    @router.post("/refresh_tokens/revoke")
    async def revoke(request: RevokeRequest) -> dict[str, bool]:
        if not state.oauth.revoke(request.refresh_token):
            raise HTTPException(404, "no such refresh token")
        return {"revoked": True}

    @router.post("/reports/{report_id}/state")
    async def move(report_id: str, request: ReportMove) -> dict[str, Any]:
        report = state.store.reports.get(report_id)
        if report is None:
            raise HTTPException(404, f"no report {report_id}")
        try:
            move_report(state.store, report, request.state)
        except FyleError as error:
            raise HTTPException(422, str(error)) from None
        return report_out(state.store, report)

    @router.post("/webhooks", status_code=201)
    async def subscribe(request: SubscriptionCreate) -> dict[str, Any]:
        if not is_absolute_http_url(request.url):
            raise HTTPException(422, "url must be an absolute http(s) URL")
        if request.secret is not None and not valid_secret(request.secret):
            raise HTTPException(422, "secret must be whsec_ followed by base64")
        return state.dispatcher.subscribe(request.url, request.secret).as_dict()

    @router.get("/webhooks")
    async def subscriptions() -> dict[str, Any]:
        return _listing([subscription.as_dict() for subscription in state.dispatcher.subscriptions.values()])

    @router.delete("/webhooks/{subscription_id}", status_code=204)
    async def unsubscribe(subscription_id: str) -> None:
        if not state.dispatcher.unsubscribe(subscription_id):
            raise HTTPException(404, f"no subscription {subscription_id}")

    @router.get("/webhooks/deliveries")
    async def deliveries() -> dict[str, Any]:
        return _listing([delivery.as_dict() for delivery in state.dispatcher.deliveries()])

    @router.get("/writes")
    async def writes(kind: str | None = None) -> dict[str, Any]:
        return _listing([entry.as_dict() for entry in state.store.writes if kind is None or entry.kind == kind])

    @router.post("/generate")
    async def generate(request: GenerateRequest) -> dict[str, Any]:
        if request.state not in (*REPORT_STATES, UNREPORTED_EXPENSE_STATE):
            raise HTTPException(422, f"state must be COMPLETE or one of {', '.join(REPORT_STATES)}")
        added = generate_expenses(
            state.store, count=request.expenses, state=request.state, per_report=request.per_report
        )
        return {"generated": added, "counts": state.store.counts()}

    @router.get("/counts")
    async def counts() -> dict[str, int]:
        return state.store.counts()

    router.include_router(build_demo_router(), prefix="/demo")
    return router
