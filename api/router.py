"""The `/v1` REST API: one router per resource."""

from fastapi import APIRouter

from api import (
    audit_events,
    connecting,
    connection_choices,
    connections,
    destination_attributes,
    export_items,
    export_settings,
    mappings,
    previews,
    reconciliation,
    replays,
    sync_runs,
    tenant,
    webhook_events,
    webhook_secrets,
)

v1 = APIRouter(prefix="/v1")
v1.include_router(tenant.router)
v1.include_router(connecting.router)
v1.include_router(connecting.callback_router)
v1.include_router(connection_choices.router)
v1.include_router(connections.router)
v1.include_router(reconciliation.router)
v1.include_router(export_settings.router)
v1.include_router(mappings.router)
v1.include_router(destination_attributes.router)
v1.include_router(previews.router)
v1.include_router(sync_runs.router)
v1.include_router(audit_events.router)
v1.include_router(webhook_secrets.router)
v1.include_router(webhook_events.router)
v1.include_router(export_items.router)
v1.include_router(replays.router)
