"""The declarative half: Fyle's spec.yaml says what the real Fyle is, and the class agrees with it."""

from connectors.fyle import CONNECTOR, FyleConnector
from connectors.fyle.constants import STREAM_KINDS
from connectors.spec import AuthMode, ConnectorRole, PaginationStyle, load_spec

SPEC = load_spec("fyle")


def test_the_package_exports_its_connector_class() -> None:
    assert CONNECTOR is FyleConnector and FyleConnector.spec is SPEC


def test_production_urls_are_fyles_and_each_has_a_sandbox_twin() -> None:
    assert SPEC.urls == {
        "api": "https://us1.fylehq.com/platform/v1",
        "token": "https://accounts.fylehq.com/oauth/token",
        "authorize": "https://accounts.fylehq.com/app/developers/oauth/authorize",
        "cluster": "https://accounts.fylehq.com/oauth/cluster",
    }
    assert SPEC.url("api", sandbox_base="http://127.0.0.1:9/") == "http://127.0.0.1:9/fyle/platform/v1"
    assert SPEC.url("token", sandbox_base="http://127.0.0.1:9") == "http://127.0.0.1:9/fyle/oauth/token"


def test_fyle_is_an_oauth2_source_with_pkce_that_keeps_its_refresh_token() -> None:
    assert SPEC.roles == (ConnectorRole.SOURCE,)
    assert SPEC.auth.mode is AuthMode.OAUTH2 and SPEC.auth.oauth2 is not None
    assert SPEC.auth.oauth2.pkce and not SPEC.auth.oauth2.rotates_refresh_token
    assert SPEC.auth.oauth2.request_encoding == "json"
    assert {"token", "authorize", "cluster", "api"} <= set(SPEC.urls)


def test_lists_are_read_in_keyset_pages_of_fyles_maximum() -> None:
    assert SPEC.pagination.style is PaginationStyle.CURSOR
    assert SPEC.pagination.page_size == SPEC.pagination.max_page_size == 200


def test_every_declared_stream_has_a_record_kind() -> None:
    assert set(SPEC.streams) == set(STREAM_KINDS) == {"expenses", "reports", "employees"}
