"""The shared conformance suites, run against the Xero simulator (fixtures in `conftest.py`)."""

from tests.connectors.conformance import DestinationConformance, OAuth2Conformance


class TestXeroConformance(DestinationConformance):
    pass


class TestXeroOAuth2(OAuth2Conformance):
    pass
