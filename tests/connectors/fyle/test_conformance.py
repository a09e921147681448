"""The shared conformance suite, for every Fyle stream and for Fyle's OAuth2 (fixtures in `conftest.py`)."""

import pytest

from connectors.fyle.constants import STREAM_KINDS
from tests.connectors.conformance import OAuth2Conformance, SourceConformance
from tests.connectors.fyle.conftest import sandbox_counts
from tests.sandbox_fixtures import RunningSandbox


@pytest.fixture(params=sorted(STREAM_KINDS))
def stream_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def stream_total(sandbox: RunningSandbox, stream_name: str) -> int:
    return sandbox_counts(sandbox)[stream_name]


class TestFyleSource(SourceConformance):
    pass


class TestFyleOAuth2(OAuth2Conformance):
    pass
