"""Sage Intacct, the first destination: XML Web Services with sender + user credentials and API sessions.

The worked example of a destination connector: `spec.yaml` declares how to talk to Intacct; `IntacctConnector`
overrides the named hooks; each concept (envelope, session, documents, dimensions, errors) has its own module.
"""

from connectors.intacct.connector import IntacctConnector

CONNECTOR = IntacctConnector

__all__ = ["CONNECTOR", "IntacctConnector"]
