"""The destination vocabularies tests build documents and save settings with."""

from connectors.registry import destination_vocabulary

INTACCT = destination_vocabulary("intacct")
"""Sage Intacct's, from its spec: every destination of the suite is an Intacct company unless a test says otherwise."""

QUICKBOOKS = destination_vocabulary("quickbooks")
"""QuickBooks Online's, from its spec: for the documents only it creates (checks)."""
