"""The shared destination conformance suite, run against the Intacct sandbox (fixtures in `conftest.py`)."""

from tests.connectors.conformance import DestinationConformance


class TestIntacctConformance(DestinationConformance):
    pass
