"""Xero as a destination: OAuth2 covering one or several organisations (each a connection naming its tenant id),
ACCPAY bills, spend money and manual journals in batches of 50 under an Idempotency-Key, found again by the
reference each holds."""

from connectors.xero.connector import XeroConnector

CONNECTOR = XeroConnector

__all__ = ["CONNECTOR", "XeroConnector"]
