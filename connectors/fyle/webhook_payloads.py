"""Fyle's subscription callbacks: `{"resource": "REPORT", "action": "ADMIN_APPROVED", "data": {"id": …, "state": …}}`.

A report's callback carries the state it reached; an expense shows its report's state, so a report reaching an
exportable state is what lets its expenses be pulled and exported at once. Other resources start no work (yet).
"""

from collections.abc import Mapping
from typing import Any

from connectors.fyle.constants import WEBHOOK_REPORT_RESOURCE
from core.domain import RecordsReachedState


def event_type(payload: Mapping[str, Any]) -> str | None:
    """`REPORT.ADMIN_APPROVED`, or the bare action when the resource is missing."""
    resource, action = payload.get("resource"), payload.get("action")
    if isinstance(resource, str) and isinstance(action, str):
        return f"{resource}.{action}"
    return action if isinstance(action, str) else None


def events(payload: Mapping[str, Any]) -> list[RecordsReachedState]:
    data = payload.get("data")
    if payload.get("resource") != WEBHOOK_REPORT_RESOURCE or not isinstance(data, dict):
        return []
    report_id = data.get("id")
    return [
        RecordsReachedState(
            record_ids=(str(report_id),) if report_id is not None else (), state=str(data.get("state") or "")
        )
    ]
