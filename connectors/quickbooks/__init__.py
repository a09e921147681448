"""QuickBooks Online as a destination: OAuth2 per company (realm), bills, card purchases and journal entries in
batches of 30 under a `requestid`, found again by DocNumber."""

from connectors.quickbooks.connector import QuickBooksConnector

CONNECTOR = QuickBooksConnector

__all__ = ["CONNECTOR", "QuickBooksConnector"]
