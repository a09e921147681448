"""Picking which of a consent's organisations become connections, when one consent covers several (Xero).

The OAuth callback (`api.connecting`) answers such a consent with a `ChoicePublic` instead of a connection; the
tenant admin then reads it again here and posts the accounts to connect, each with its connection's name. All of
them share the consent's tokens (`web.oauth_choice`). Only the tenant that consented sees or uses the choice.
"""

from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from api.connections import ConnectionPublic
from api.deps import RepositoryDep
from web.app_state import queue_of, vault_of
from web.constants import CONNECTION_NAME_PATTERN, OAUTH_STATE_TTL_SECONDS
from web.oauth_choice import ChoiceGone, ChoiceRefused, PendingChoice, connect_chosen, pending_choice
from web.oauth_start import connector_spec
from web.problems import Problem, problem_responses

router = APIRouter(prefix="/connections", tags=["connections"])

ChoiceId = Annotated[str, Path(max_length=64, description="The id the callback answered with.")]


class AccountPublic(BaseModel):
    account_id: str
    name: str = Field(description="What the system calls these books.")
    suggested_name: str = Field(description="A connection name nobody has to type.")


class ChoicePublic(BaseModel):
    choice: str = Field(description="Post the accounts to connect to `/v1/connections/{system}/choices/{choice}`.")
    system: str
    accounts: list[AccountPublic]
    expires_in_seconds: int = Field(description="How long the consent waits for the choice at most.")

    @classmethod
    def of(cls, pending: PendingChoice) -> "ChoicePublic":
        suggested = pending.suggested_names()
        return cls(
            choice=pending.choice_id,
            system=pending.system,
            accounts=[
                AccountPublic(
                    account_id=account.account_id, name=account.name, suggested_name=suggested[account.account_id]
                )
                for account in pending.accounts
            ],
            expires_in_seconds=OAUTH_STATE_TTL_SECONDS,
        )


class AccountChosen(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: str = Field(max_length=200)
    name: str = Field(pattern=CONNECTION_NAME_PATTERN, description="The connection's name.")


class ChoiceMade(BaseModel):
    model_config = ConfigDict(extra="forbid")

    connections: list[AccountChosen] = Field(min_length=1, max_length=100)


class ConnectionsChosen(BaseModel):
    items: list[ConnectionPublic]


_GONE = "This consent is unknown, already used or expired; start connecting again."


async def _pending(request: Request, repository: RepositoryDep, *, system: str, choice: str) -> PendingChoice:
    spec = connector_spec(system)
    try:
        return await pending_choice(
            queue_of(request).redis,
            vault_of(request),
            choice_id=choice,
            tenant_id=repository.tenant_id,
            system=spec.system,
        )
    except ChoiceGone as exc:
        raise Problem(404, _GONE, problem="choice-gone") from exc


@router.get(
    "/{system}/choices/{choice}",
    response_model=ChoicePublic,
    summary="The organisations a consent covers",
    responses=problem_responses({404: "No waiting consent of this tenant has this id."}),
)
async def read_choice(system: str, choice: ChoiceId, request: Request, repository: RepositoryDep) -> ChoicePublic:
    return ChoicePublic.of(await _pending(request, repository, system=system, choice=choice))


@router.post(
    "/{system}/choices/{choice}",
    response_model=ConnectionsChosen,
    status_code=201,
    summary="Connect the organisations picked from a consent",
    responses=problem_responses(
        {
            404: "No waiting consent of this tenant has this id (unknown, used or expired).",
            409: "A name is taken by another connection, or an organisation is already connected under another name.",
            422: "An account the consent does not cover, a bad or repeated name.",
        }
    ),
)
async def make_choice(
    system: str, choice: ChoiceId, body: ChoiceMade, request: Request, repository: RepositoryDep
) -> ConnectionsChosen:
    pending = await _pending(request, repository, system=system, choice=choice)
    picked = {chosen.account_id: chosen.name for chosen in body.connections}
    if len(picked) != len(body.connections):
        raise Problem(422, "An organisation is picked twice.", problem="validation-failed")
    try:
        rows = await connect_chosen(
            repository, queue_of(request).redis, spec=connector_spec(system), pending=pending, picked=picked
        )
    except ChoiceRefused as exc:
        raise Problem(
            409 if exc.conflict else 422,
            f"The organisations were not connected: {exc}.",
            problem="choice-refused",
            errors=[{"account_id": account_id, "message": message} for account_id, message in exc.problems.items()],
        ) from exc
    except ChoiceGone as exc:
        raise Problem(404, _GONE, problem="choice-gone") from exc
    return ConnectionsChosen(items=[ConnectionPublic.of(row) for row in rows])
