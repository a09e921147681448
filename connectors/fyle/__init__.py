"""The Fyle source connector: `spec.yaml` plus `FyleConnector`."""

from connectors.fyle.connector import FyleConnector

CONNECTOR = FyleConnector

__all__ = ["CONNECTOR", "FyleConnector"]
