"""The destination connection named in a path: found within the caller's tenant, or a 404.

A source connection is a 409, as for its schedule and sync runs: the request is well formed, the connection's role
refuses it (it was a 422, which read as a fault in a request the document calls valid)."""

import uuid
from typing import Annotated

from fastapi import Depends

from api.deps import RepositoryDep
from core.models import Connection, ConnectionRole
from web.problems import Problem


async def get_destination(connection_id: uuid.UUID, repository: RepositoryDep) -> Connection:
    row = await repository.get(Connection, connection_id)
    if row is None:
        raise Problem(404, f"No connection {connection_id} exists for this tenant.")
    if row.role != ConnectionRole.DESTINATION.value:
        raise Problem(
            409,
            f"Connection {row.name!r} is a source; export settings, mappings and destination attributes belong to "
            "a destination connection.",
            problem="not-a-destination",
        )
    return row


DestinationDep = Annotated[Connection, Depends(get_destination)]
