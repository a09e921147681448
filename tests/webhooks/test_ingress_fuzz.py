"""Whatever arrives at the webhook endpoint — any provider, key, content type, headers or body, signed or not —
the answer is a 2xx or a 4xx problem document, never a 5xx."""

import json
import uuid
from typing import Any

import httpx
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.conftest import TenantFixture
from tests.webhooks.ingress_support import signed_headers, webhook_target

HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
BODIES = st.one_of(
    st.binary(max_size=512),
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),
    st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=5).map(lambda value: json.dumps(value).encode()),
    st.text(max_size=200).map(str.encode),
)
CONTENT_TYPES = st.one_of(
    st.just("application/json"),
    st.just("application/json"),
    st.sampled_from(
        ["application/json", "application/json; charset=utf-8", "application/cloudevents+json", "text/plain", ""]
    ),
    HEADER_TEXT,
)
SEGMENTS = st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="/?#%"), max_size=40)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    provider=st.one_of(st.just("fyle"), st.just("fyle"), st.sampled_from(["generic", "xero"]), SEGMENTS),
    real_key=st.sampled_from([True, True, False]),
    other_key=SEGMENTS,
    body=BODIES,
    content_type=CONTENT_TYPES,
    sign=st.sampled_from(["valid", "valid", "none", "random"]),
    extra=st.dictionaries(
        st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature", "x-other"]), HEADER_TEXT, max_size=3
    ),
)
async def test_no_delivery_causes_a_server_error(
    client: httpx.AsyncClient,
    tenant: TenantFixture,
    provider: str,
    real_key: bool,
    other_key: str,
    body: bytes,
    content_type: str,
    sign: str,
    extra: dict[str, str],
) -> None:
    target = await _target(client, tenant)
    key = target.path.rsplit("/", 1)[1] if real_key else (other_key or "k")
    headers: dict[str, Any] = {}
    if sign == "valid":
        headers.update(signed_headers(target.secret, body, message_id=f"fuzz_{uuid.uuid4().hex}"))
    elif sign == "random":
        headers.update(extra)
    headers["content-type"] = content_type
    response = await client.post(f"/webhooks/{provider}/{key}", content=body, headers=headers)
    event(f"status {response.status_code}")
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")


_TARGETS: dict[uuid.UUID, Any] = {}


async def _target(client: httpx.AsyncClient, tenant: TenantFixture) -> Any:
    """One connection per test run (the tenant fixture is created once for all examples)."""
    if tenant.id not in _TARGETS:
        _TARGETS[tenant.id] = await webhook_target(client, tenant)
    return _TARGETS[tenant.id]
