"""The shared conformance suites, run against the QuickBooks simulator (fixtures in `conftest.py`)."""

from tests.connectors.conformance import DestinationConformance, OAuth2Conformance


class TestQuickBooksConformance(DestinationConformance):
    pass


class TestQuickBooksOAuth2(OAuth2Conformance):
    pass
