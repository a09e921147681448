"""Overview: items per state, where the failures are, failed attempts per hour, connections to look at.

It is the dashboard's root page, routed in `dashboard.router`."""

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from core.models import ExportState
from dashboard.constants import FAILURE_WINDOW_HOURS
from dashboard.pages.connections import connection_rows
from dashboard.scope import ScopeDep
from dashboard.templating import render
from sync.item_queries import HourCount, ItemFacet, ItemFilter, count_items, failures_by_hour

CHART_WIDTH = 720
CHART_HEIGHT = 140
CHART_LABEL_SPACE = 18


def chart_bars(hours: list[HourCount]) -> dict[str, Any]:
    """Bar geometry for the inline SVG: computed here so the template stays declarative and CSP needs no styles."""
    peak = max((hour.failures for hour in hours), default=0) or 1
    slot = CHART_WIDTH / max(len(hours), 1)
    usable = CHART_HEIGHT - CHART_LABEL_SPACE
    bars = []
    for index, entry in enumerate(hours):
        hour, count = entry.hour, entry.failures
        height = max(round(usable * count / peak), 2)
        bars.append(
            {
                "x": round(index * slot + 2, 1),
                "y": usable - height,
                "width": round(slot - 4, 1),
                "height": height,
                "count": count,
                "hour": hour,
                "label": hour.strftime("%H") if index % 3 == 0 else "",
                "label_x": round(index * slot + slot / 2, 1),
            }
        )
    return {
        "bars": bars,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "peak": peak,
        "total": sum(hour.failures for hour in hours),
    }


async def overview(request: Request, scope: ScopeDep) -> Response:
    everything = ItemFilter(tenant_id=scope.tenant_id, state=None)
    failing = ItemFilter(tenant_id=scope.tenant_id)
    since = datetime.now(UTC) - timedelta(hours=FAILURE_WINDOW_HOURS - 1)
    async with scope.reading("overview") as session:
        by_state = {facet.key: facet.count for facet in await count_items(session, everything)}
        by_tenant = await count_items(session, failing, group_by=ItemFacet.TENANT)
        by_provider = await count_items(session, failing, group_by=ItemFacet.PROVIDER)
        by_class = await count_items(session, failing, group_by=ItemFacet.ERROR_CLASS)
        hours = await failures_by_hour(session, since=since, tenant_id=scope.tenant_id)
        attention = await connection_rows(session, attention_only=True)
    return render(
        request,
        "overview.html",
        {
            "states": [(state.value, by_state.get(state.value, 0)) for state in ExportState],
            "by_tenant": by_tenant,
            "by_provider": by_provider,
            "by_class": by_class,
            "chart": chart_bars(hours),
            "window_hours": FAILURE_WINDOW_HOURS,
            "connections": attention,
            "live": True,
        },
    )
