"""Sage Intacct simulator: the XML Web Services gateway (`/ia/xml/xmlgw.phtml`) with sender and user
authentication, API sessions, `uniqueid` control ids, multi-entity companies, readByQuery/readMore/query paging,
validated writes (bills, journals, payments, expense reports, card transactions, reimbursements, attachments)
and a control API to inspect and steer it. The official `sageintacctsdk` works against it unchanged apart from
its base URL."""

from sandbox.intacct.simulator import IntacctSimulator

__all__ = ["IntacctSimulator"]
