"""The objects the simulator knows, their fields (the names the official SDK selects) and each field's data type.

Types drive comparison in filters and ordering (`DECIMAL` compares as a number, `DATE` as a date), and `lookup`
reports them, so they follow simple naming rules rather than a hand-kept table per field.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final


class Kind(StrEnum):
    MASTER = "master"
    """Lists a tenant maps to (accounts, vendors, dimensions): seeded, read-mostly."""
    DOCUMENT = "document"
    """Transactions Ledgerline creates (bills, journals, expense reports, …)."""
    DIMENSION = "dimension"
    """Values of a user-defined dimension (a platform object with lower-case fields)."""


@dataclass(frozen=True, slots=True)
class FieldDef:
    name: str
    datatype: str
    valid_values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectDef:
    name: str
    label: str
    kind: Kind
    key: str
    """The identifier other objects reference (`VENDORID`, `ACCOUNTNO`); `RECORDNO` for documents."""
    fields: tuple[FieldDef, ...]
    _index: dict[str, FieldDef] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {definition.name.lower(): definition for definition in self.fields})

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(definition.name for definition in self.fields)

    def field(self, name: str) -> FieldDef | None:
        """Field names are case-insensitive on the wire (`usertype = 'B'` works), canonical in responses."""
        return self._index.get(name.lower())


STATUS_VALUES: Final = ("active", "inactive")
DOCUMENT_STATES: Final = ("Draft", "Submitted", "Posted", "Partially Paid", "Paid", "Reversed")
_TIMESTAMPS: Final = frozenset({"WHENMODIFIED", "AUWHENCREATED", "whenCreated", "whenModified"})
_INTEGERS: Final = frozenset({"RECORDNO", "id", "DUE_IN_DAYS", "BATCHNO", "TR_TYPE", "LINE_NO"})
_DECIMALS: Final = frozenset(
    {"VALUE", "MINTAXABLE", "MAXTAXABLE", "MINTAX", "MAXTAX", "TAXRATE", "TRX_AMOUNT", "AMOUNT", "EXCHANGE_RATE"}
)


def _datatype(name: str, kind: Kind) -> str:
    if name in _TIMESTAMPS or (name == "WHENCREATED" and kind is Kind.MASTER):
        return "TIMESTAMP"
    if name in _INTEGERS or name.endswith("KEY"):
        return "INTEGER"
    if name.startswith("WHEN") or name.endswith("DATE") or name == "BATCH_DATE":
        return "DATE"
    if name.startswith(("TOTAL", "TRX_TOTAL")) or name in _DECIMALS:
        return "DECIMAL"
    if name in ("STATUS", "STATE"):
        return "ENUM"
    return "TEXT"


def _define(name: str, label: str, kind: Kind, key: str, fields: str) -> ObjectDef:
    """An object from its field names (space-separated, in the order responses print them)."""
    unique = tuple(dict.fromkeys(fields.split()))
    defs = []
    for name_ in unique:
        values: tuple[str, ...] = ()
        if name_ == "STATUS":
            values = STATUS_VALUES
        elif name_ == "STATE" and kind is Kind.DOCUMENT:
            values = DOCUMENT_STATES
        defs.append(FieldDef(name_, _datatype(name_, kind), values))
    return ObjectDef(name, label, kind, key, tuple(defs))


MASTER_OBJECTS: Final = (
    _define(
        "GLACCOUNT",
        "Account",
        Kind.MASTER,
        "ACCOUNTNO",
        (
            "RECORDNO ACCOUNTNO TITLE ACCOUNTTYPE NORMALBALANCE CLOSINGTYPE STATUS CATEGORY ALTERNATIVEACCOUNT "
            "REQUIREDEPT REQUIRELOC WHENCREATED WHENMODIFIED MEGAENTITYKEY MEGAENTITYID MEGAENTITYNAME"
        ),
    ),
    _define(
        "VENDOR",
        "Vendor",
        Kind.MASTER,
        "VENDORID",
        (
            "RECORDNO NAME VENDORID PARENTKEY PARENTID PARENTNAME DISPLAYCONTACT.CONTACTNAME "
            "DISPLAYCONTACT.COMPANYNAME DISPLAYCONTACT.FIRSTNAME DISPLAYCONTACT.LASTNAME DISPLAYCONTACT.INITIAL "
            "DISPLAYCONTACT.PRINTAS DISPLAYCONTACT.PHONE1 DISPLAYCONTACT.PHONE2 DISPLAYCONTACT.EMAIL1 "
            "DISPLAYCONTACT.EMAIL2 VENDORACCOUNTNO VENDTYPE ACCOUNTLABEL APACCOUNT APACCOUNTTITLE STATUS ONETIME "
            "ONHOLD CURRENCY WHENCREATED WHENMODIFIED MEGAENTITYKEY MEGAENTITYID MEGAENTITYNAME"
        ),
    ),
    _define(
        "EMPLOYEE",
        "Employee",
        Kind.MASTER,
        "EMPLOYEEID",
        (
            "RECORDNO EMPLOYEEID SSN TITLE LOCATIONID DEPARTMENTID BIRTHDATE STARTDATE ENDDATE STATUS "
            "EMPLOYEETYPE EMPLOYEETYPE1099TYPE GENDER TERMINATIONTYPE CONTACT.CONTACTNAME CONTACT.PREFIX "
            "CONTACT.FIRSTNAME CONTACT.INITIAL CONTACT.LASTNAME CONTACT.COMPANYNAME CONTACT.PRINTAS "
            "CONTACT.PHONE1 CONTACT.PHONE2 CONTACT.CELLPHONE CONTACT.PAGER CONTACT.FAX CONTACT.EMAIL1 "
            "CONTACT.EMAIL2 CONTACT.URL1 CONTACT.URL2 CONTACT.MAILADDRESS.ADDRESS1 CONTACT.MAILADDRESS.ADDRESS2 "
            "CONTACT.MAILADDRESS.CITY CONTACT.MAILADDRESS.STATE CONTACT.MAILADDRESS.ZIP "
            "CONTACT.MAILADDRESS.COUNTRY CONTACT.MAILADDRESS.COUNTRYCODE CURRENCY WHENCREATED WHENMODIFIED "
            "PAYMETHODKEY CONTACTKEY MEGAENTITYKEY MEGAENTITYID MEGAENTITYNAME"
        ),
    ),
    _define(
        "DEPARTMENT",
        "Department",
        Kind.MASTER,
        "DEPARTMENTID",
        (
            "RECORDNO DEPARTMENTID TITLE PARENTKEY PARENTID SUPERVISORNAME STATUS CUSTTITLE WHENCREATED "
            "WHENMODIFIED MEGAENTITYKEY MEGAENTITYID MEGAENTITYNAME"
        ),
    ),
    _define(
        "LOCATION",
        "Location",
        Kind.MASTER,
        "LOCATIONID",
        (
            "RECORDNO LOCATIONID NAME PARENTID STATUS CURRENCY WHENCREATED WHENMODIFIED MEGAENTITYKEY "
            "MEGAENTITYID MEGAENTITYNAME"
        ),
    ),
    _define(
        "LOCATIONENTITY",
        "Entity",
        Kind.MASTER,
        "LOCATIONID",
        (
            "RECORDNO LOCATIONID NAME REPORTPRINTAS SUPERVISORID FIRSTMONTH FIRSTMONTHTAX WEEKSTART FEDERALID "
            "STARTDATE ENDDATE STATUS HAS_IE_RELATION CUSTOMERID CUSTOMERNAME VENDORID VENDORNAME CURRENCY TAXID "
            "ENABLELEGALCONTACT LEGALNAME LEGALADDRESS1 LEGALADDRESS2 LEGALCITY LEGALSTATE LEGALZIPCODE "
            "LEGALCOUNTRY OPCOUNTRY ADDRESSCOUNTRYDEFAULT RECORD_URL WHENCREATED WHENMODIFIED"
        ),
    ),
    _define(
        "CLASS",
        "Class",
        Kind.MASTER,
        "CLASSID",
        (
            "RECORDNO CLASSID NAME DESCRIPTION STATUS PARENTKEY PARENTID WHENCREATED WHENMODIFIED CREATEDBY "
            "MODIFIEDBY MEGAENTITYKEY MEGAENTITYID MEGAENTITYNAME RECORD_URL"
        ),
    ),
    _define(
        "PROJECT",
        "Project",
        Kind.MASTER,
        "PROJECTID",
        (
            "RECORDNO PROJECTID NAME DESCRIPTION CURRENCY PROJECTCATEGORY PROJECTSTATUS PARENTKEY PARENTID "
            "PARENTNAME STATUS CUSTOMERKEY CUSTOMERID CUSTOMERNAME PROJECTTYPE DEPARTMENTNAME LOCATIONID "
            "LOCATIONNAME BUDGETID WHENCREATED WHENMODIFIED MEGAENTITYKEY MEGAENTITYID MEGAENTITYNAME"
        ),
    ),
    _define(
        "CUSTOMER",
        "Customer",
        Kind.MASTER,
        "CUSTOMERID",
        (
            "RECORDNO CUSTOMERID NAME ENTITY PARENTKEY PARENTID PARENTNAME CUSTREPNAME TOTALDUE GLGRPKEY GLGROUP "
            "STATUS ONETIME ONHOLD WHENCREATED WHENMODIFIED CREATEDBY MODIFIEDBY OBJECTRESTRICTION MEGAENTITYKEY "
            "MEGAENTITYID MEGAENTITYNAME"
        ),
    ),
    _define(
        "ITEM",
        "Item",
        Kind.MASTER,
        "ITEMID",
        (
            "RECORDNO ITEMID STATUS MRR NAME EXTENDED_DESCRIPTION PRODUCTLINEID GLGROUP ITEMTYPE WHENCREATED "
            "WHENMODIFIED MEGAENTITYKEY MEGAENTITYID MEGAENTITYNAME"
        ),
    ),
    _define(
        "TAXDETAIL",
        "Tax Detail",
        Kind.MASTER,
        "DETAILID",
        (
            "RECORDNO DETAILID TAXUID DESCRIPTION TAXTYPE VALUE MINTAXABLE MAXTAXABLE INCLUDE MINTAX MAXTAX "
            "GLACCOUNT TAXAUTHORITY STATUS REVERSECHARGE TAXRATE TAXSOLUTIONID WHENCREATED WHENMODIFIED "
            "MEGAENTITYKEY MEGAENTITYID MEGAENTITYNAME"
        ),
    ),
    _define(
        "CREDITCARD",
        "Charge Card Account",
        Kind.MASTER,
        "CARDID",
        (
            "RECORDNO CARDID DESCRIPTION CARDTYPE EXP_MONTH EXP_YEAR COMMCARD STATUS VENDORID DEPT LOCATION "
            "LIABILITYTYPE OUTSOURCECARD CURRENCY WHENCREATED WHENMODIFIED MEGAENTITYKEY MEGAENTITYID "
            "MEGAENTITYNAME"
        ),
    ),
    _define(
        "CHECKINGACCOUNT",
        "Checking Account",
        Kind.MASTER,
        "BANKACCOUNTID",
        (
            "BANKACCOUNTID BANKACCOUNTNO GLACCOUNTNO BANKNAME ROUTINGNO BRANCHID BANKACCOUNTTYPE DEPARTMENTID "
            "LOCATIONID STATUS RECORDNO ACHBANKID COMPANYNAME CURRENCY WHENCREATED WHENMODIFIED MEGAENTITYKEY "
            "MEGAENTITYID MEGAENTITYNAME"
        ),
    ),
    _define(
        "EEACCOUNTLABEL",
        "Expense Type",
        Kind.MASTER,
        "ACCOUNTLABEL",
        (
            "RECORDNO ACCOUNTLABEL DESCRIPTION GLACCOUNTNO GLACCOUNTTITLE STATUS ITEMID WHENCREATED WHENMODIFIED "
            "MEGAENTITYKEY MEGAENTITYID MEGAENTITYNAME"
        ),
    ),
    _define(
        "EXPENSEPAYMENTTYPE",
        "Expense Payment Type",
        Kind.MASTER,
        "NAME",
        (
            "RECORDNO NAME DESCRIPTION NONREIMBURSABLE OFFSETACCTNO OFFSETACCTTITLE STATUS WHENCREATED "
            "WHENMODIFIED CREATEDBY MODIFIEDBY MEGAENTITYKEY MEGAENTITYID MEGAENTITYNAME"
        ),
    ),
)

DOCUMENT_OBJECTS: Final = (
    _define(
        "APBILL",
        "Bill",
        Kind.DOCUMENT,
        "RECORDNO",
        (
            "RECORDNO RECORDID RECORD_URL STATE VENDORID VENDORNAME DOCNUMBER TERMNAME WHENCREATED WHENPOSTED "
            "TOTALENTERED TRX_TOTALENTERED TOTALSELECTED TRX_TOTALSELECTED TOTALPAID TRX_TOTALPAID TOTALDUE "
            "TRX_TOTALDUE WHENDUE WHENPAID RECPAYMENTDATE PAYMENTPRIORITY DESCRIPTION ONHOLD BASECURR CURRENCY "
            "EXCH_RATE_DATE EXCH_RATE_TYPE_ID EXCHANGE_RATE WHENMODIFIED DUE_IN_DAYS PRBATCH SUPDOCID "
            "MEGAENTITYKEY MEGAENTITYID MEGAENTITYNAME"
        ),
    ),
    _define(
        "GLBATCH",
        "Journal Entry",
        Kind.DOCUMENT,
        "RECORDNO",
        (
            "RECORDNO BATCHNO JOURNAL BATCH_DATE BATCH_TITLE TAXIMPLICATIONS VATVENDORID VATCUSTOMERID "
            "VATCONTACTID REFERENCENO BASELOCATION_NO STATE TAXSOLUTIONID SUPDOCID WHENCREATED WHENMODIFIED "
            "MEGAENTITYKEY MEGAENTITYID MEGAENTITYNAME"
        ),
    ),
    _define(
        "APPYMT",
        "AP Payment",
        Kind.DOCUMENT,
        "RECORDNO",
        (
            "RECORDNO FINANCIALENTITY PAYMENTMETHOD VENDORID VENDORNAME DOCNUMBER DESCRIPTION CURRENCY BASECURR "
            "PAYMENTDATE WHENPAID TOTALENTERED TRX_TOTALENTERED STATE WHENCREATED WHENMODIFIED MEGAENTITYKEY "
            "MEGAENTITYID MEGAENTITYNAME"
        ),
    ),
    _define(
        "EEXPENSES",
        "Expense Report",
        Kind.DOCUMENT,
        "RECORDNO",
        (
            "RECORDNO RECORD_URL RECORDID EMPLOYEEID WHENCREATED WHENPOSTED TOTALENTERED TRX_TOTALENTERED STATE "
            "TOTALPAID TRX_TOTALPAID TOTALDUE TRX_TOTALDUE WHENPAID DESCRIPTION CURRENCY BASECURR EXCHANGE_RATE "
            "MEMO SUPDOCID WHENMODIFIED MEGAENTITYKEY MEGAENTITYID MEGAENTITYNAME"
        ),
    ),
    _define(
        "CCTRANSACTION",
        "Charge Card Transaction",
        Kind.DOCUMENT,
        "RECORDNO",
        (
            "RECORDNO RECORDID RECORD_URL FINANCIALENTITY PAYEE WHENCREATED DESCRIPTION BASECURR CURRENCY "
            "EXCH_RATE_DATE EXCH_RATE_TYPE_ID EXCHANGE_RATE TOTALENTERED TRX_TOTALENTERED TOTALPAID TRX_TOTALPAID "
            "TOTALSELECTED TRX_TOTALSELECTED TOTALDUE "
            "TRX_TOTALDUE WHENPAID STATE RAWSTATE CLEARED AUWHENCREATED WHENMODIFIED INCLUSIVETAX TAXSOLUTIONID "
            "TAXMETHOD SUPDOCID MEGAENTITYKEY MEGAENTITYID MEGAENTITYNAME"
        ),
    ),
    _define(
        "EPPAYMENT",
        "Reimbursement",
        Kind.DOCUMENT,
        "RECORDNO",
        (
            "RECORDNO EMPLOYEEID FINANCIALENTITY PAYMENTMETHOD PAYMENTDATE TOTALENTERED TRX_TOTALENTERED STATE "
            "DESCRIPTION CURRENCY BASECURR WHENCREATED WHENMODIFIED MEGAENTITYKEY MEGAENTITYID MEGAENTITYNAME"
        ),
    ),
)

UDD_FIELDS: Final = ("id", "name", "description", "createdBy", "updatedBy", "whenCreated", "whenModified")


def dimension_object(name: str) -> ObjectDef:
    """A user-defined dimension: a platform object whose fields are lower-case, as the SDK selects them."""
    return ObjectDef(
        name,
        name.title(),
        Kind.DIMENSION,
        "name",
        tuple(FieldDef(udd_field, _datatype(udd_field, Kind.DIMENSION)) for udd_field in UDD_FIELDS),
    )


def build_catalog(udd_names: tuple[str, ...]) -> dict[str, ObjectDef]:
    """Every object a company can read: the standard ones plus its user-defined dimensions."""
    catalog = {definition.name: definition for definition in (*MASTER_OBJECTS, *DOCUMENT_OBJECTS)}
    catalog.update({name: dimension_object(name) for name in udd_names})
    return catalog


STANDARD_DIMENSIONS: Final = (
    ("DEPARTMENT", "Department"),
    ("LOCATION", "Location"),
    ("PROJECT", "Project"),
    ("CUSTOMER", "Customer"),
    ("VENDOR", "Vendor"),
    ("EMPLOYEE", "Employee"),
    ("ITEM", "Item"),
    ("CLASS", "Class"),
)
