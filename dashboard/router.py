"""The dashboard's routes under `/dashboard`, its static files, and the handlers answering its refusals in HTML."""

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from dashboard import auth
from dashboard.constants import PREFIX, STATIC_PATH
from dashboard.csrf import CsrfRejected
from dashboard.pages import (
    connections,
    item_actions,
    items,
    overview,
    replays,
    setup,
    setup_choose,
    setup_map,
    setup_runs,
    setup_settings,
    webhooks,
)
from dashboard.pages.item_actions import ForbiddenPage
from dashboard.scope import NotFoundPage
from dashboard.session import LoginRequired
from dashboard.templating import STATIC_DIR, render

router = APIRouter(prefix=PREFIX, include_in_schema=False)
router.include_router(auth.router)
router.add_api_route("", overview.overview, methods=["GET"], name="dashboard_overview")
router.include_router(items.router)
router.include_router(item_actions.router)
router.include_router(replays.router)
router.include_router(connections.router)
router.include_router(webhooks.router)
router.include_router(setup.router)
router.include_router(setup_choose.router)
router.include_router(setup_runs.router)
router.include_router(setup_map.router)
router.include_router(setup_settings.router)


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    target = auth.safe_next(exc.next_path)
    location = f"{PREFIX}/login" if target == PREFIX else f"{PREFIX}/login?next={target}"
    return RedirectResponse(location, status_code=303)


async def _csrf_rejected(request: Request, exc: Exception) -> Response:
    return render(
        request,
        "error.html",
        {"title": "Refused", "message": "This form is stale or did not come from the dashboard. Reload the page."},
        status_code=403,
    )


async def _forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ForbiddenPage)
    return render(request, "error.html", {"title": "Not allowed", "message": exc.message}, status_code=403)


async def _not_found(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotFoundPage)
    return render(
        request,
        "error.html",
        {"title": "Not found", "message": f"No such {exc.what} exists, or it is not yours to see."},
        status_code=404,
    )


def install_dashboard(app: FastAPI) -> None:
    """Mount the dashboard on an app: routes, static assets and its HTML error pages."""
    app.include_router(router)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="dashboard_static")
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(CsrfRejected, _csrf_rejected)
    app.add_exception_handler(NotFoundPage, _not_found)
    app.add_exception_handler(ForbiddenPage, _forbidden)
