"""Onboarding: picking which organisations of a consent become connections, when one consent covers several (Xero).

The consent's way back (`/setup/connected/{system}?choose=…`) sends the admin here; the page lists every
organisation with a box to tick and the connection's name, and saving makes the ticked ones connections sharing the
consent's tokens (`web.oauth_choice`). A problem is shown beside its organisation with what was typed kept.
"""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dashboard.constants import PREFIX
from dashboard.csrf import CsrfUserDep
from dashboard.pages.common import back
from dashboard.pages.setup_common import SETUP, require_admin, spec_of
from dashboard.scope import NotFoundPage, ScopeDep
from dashboard.session import UserDep
from dashboard.templating import render
from web.app_state import queue_of, vault_of
from web.oauth_choice import ChoiceGone, ChoiceRefused, PendingChoice, connect_chosen, pending_choice

router = APIRouter(prefix=SETUP)

NAME_FIELD = "name:{account_id}"
PICK_FIELD = "pick"


async def _pending(request: Request, *, tenant_id: Any, system: str, choice: str) -> PendingChoice:
    try:
        return await pending_choice(
            queue_of(request).redis, vault_of(request), choice_id=choice, tenant_id=tenant_id, system=system
        )
    except ChoiceGone as exc:
        raise NotFoundPage(
            "This consent is unknown, already used or expired (it waits ten minutes). Start connecting again."
        ) from exc


def _page(
    request: Request,
    pending: PendingChoice,
    *,
    picked: set[str],
    names: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    spec = spec_of(pending.system)
    context = {
        "spec": spec,
        "system": pending.system,
        "choice": pending.choice_id,
        "accounts": pending.accounts,
        "picked": picked,
        "names": names,
        "errors": errors,
    }
    return render(request, "setup_choose.html", context, status_code=status_code)


@router.get("/choose/{system}/{choice}")
async def choose_page(request: Request, system: str, choice: str, user: UserDep) -> Response:
    tenant_id = require_admin(user)
    pending = await _pending(request, tenant_id=tenant_id, system=spec_of(system).system, choice=choice)
    every = {account.account_id for account in pending.accounts}
    return _page(request, pending, picked=every, names=pending.suggested_names(), errors={})


@router.post("/choose/{system}/{choice}")
async def choose(request: Request, system: str, choice: str, user: CsrfUserDep, scope: ScopeDep) -> Response:
    tenant_id = require_admin(user)
    spec = spec_of(system)
    pending = await _pending(request, tenant_id=tenant_id, system=spec.system, choice=choice)
    form = await request.form()
    picked = {str(value) for value in form.getlist(PICK_FIELD)}
    names = {
        account.account_id: str(form.get(NAME_FIELD.format(account_id=account.account_id)) or "").strip()
        for account in pending.accounts
    }
    try:
        async with scope.acting_for(tenant_id) as repository:
            rows = await connect_chosen(
                repository,
                queue_of(request).redis,
                spec=spec,
                pending=pending,
                picked={account_id: names.get(account_id, "") for account_id in picked},
            )
            connected = [(row.id, row.name) for row in rows]
    except ChoiceRefused as exc:
        return _page(
            request, pending, picked=picked, names=names, errors=exc.problems, status_code=409 if exc.conflict else 422
        )
    except ChoiceGone:
        return back(request, f"{PREFIX}{SETUP}", "That consent was used meanwhile or expired; nothing was saved.")
    listed = ", ".join(f"“{name}”" for _, name in connected)
    message = f"Connected {spec.display_name} as {listed}. Next: import from each."
    return back(request, f"{PREFIX}{SETUP}/destinations/{connected[0][0]}/import", message)
