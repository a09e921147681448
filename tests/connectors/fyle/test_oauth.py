"""Tokens of one Fyle connection shared by several workers, and the cluster its API lives on."""

import asyncio

import pytest

from connectors.auth import OAuth2Tokens
from connectors.fyle import FyleConnector
from connectors.fyle.cluster import api_base
from connectors.fyle.constants import CLUSTER_DOMAIN_SETTING
from connectors.spec import SettingWriter
from core.errors import ValidationError
from sandbox.fyle.constants import FYLE_SANDBOX_REFRESH_TOKEN
from tests.connectors.fyle.conftest import CHECK_OPERATION, FyleWorld

SPEC = FyleConnector.spec
PRODUCTION = {name: SPEC.url(name) for name in SPEC.urls}


def api_calls(world: FyleWorld) -> int:
    with world.sandbox.control() as control:
        count: int = control.get("/requests", params={"system": "fyle", "operation": CHECK_OPERATION}).json()["count"]
    return count


async def test_two_concurrent_refreshes_of_one_connection_make_one_token_request(world: FyleWorld) -> None:
    await world.expire_stored_token()
    stale = await world.stored_tokens()
    first, second = await world.open(), await world.open()  # two token stores, as two worker processes have
    before = world.token_requests()
    try:
        await asyncio.gather(first.check(), second.check())
    finally:
        await first.aclose()
        await second.aclose()

    assert world.token_requests() == before + 1
    stored = await world.stored_tokens()
    assert stored["access_token"] != stale["access_token"]
    assert not OAuth2Tokens.from_credentials(stored).expired()
    # Fyle does not rotate refresh tokens, so the one stored is still the one that was granted.
    assert stored["refresh_token"] == FYLE_SANDBOX_REFRESH_TOKEN


async def test_a_worker_opened_after_a_refresh_uses_the_stored_token(world: FyleWorld) -> None:
    await world.expire_stored_token()
    async with await world.open() as refreshing:
        await refreshing.check()
    before, calls = world.token_requests(), api_calls(world)

    async with await world.open() as later:
        await later.check()

    assert world.token_requests() == before
    assert api_calls(world) == calls + 1


def test_the_cluster_setting_the_connector_reads_is_declared_in_its_spec_as_written_by_ledgerline() -> None:
    """A connection takes only declared settings (`sync.connection_settings`), and a person may not point the API,
    and so the tokens, at another host."""
    declared = {field.name: field.written_by for field in SPEC.settings}
    assert declared == {CLUSTER_DOMAIN_SETTING: SettingWriter.SYSTEM}


def test_without_a_cluster_domain_the_default_cluster_is_used() -> None:
    assert api_base(SPEC, PRODUCTION, {}) == "https://us1.fylehq.com/platform/v1"


def test_the_cluster_domain_setting_moves_the_api_to_the_orgs_cluster() -> None:
    settings = {"cluster_domain": "https://in1.fylehq.com/"}

    assert api_base(SPEC, PRODUCTION, settings) == "https://in1.fylehq.com/platform/v1"


async def test_the_sandbox_cluster_domain_is_honoured(connector: FyleConnector, world: FyleWorld) -> None:
    assert connector.api == f"{world.sandbox.url}/fyle/platform/v1"


@pytest.mark.parametrize("cluster", ["https://fylehq.com.evil.example", "http://in1.fylehq.com", "https://x.test"])
def test_a_cluster_domain_off_fyles_hosts_is_refused(cluster: str) -> None:
    with pytest.raises(ValidationError) as raised:
        api_base(SPEC, PRODUCTION, {"cluster_domain": cluster})

    assert raised.value.code == "cluster_domain"
