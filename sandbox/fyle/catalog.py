"""The fixed vocabulary seed data is drawn from: names, departments, categories, projects, merchants, receipts."""

import struct
import zlib
from decimal import Decimal
from typing import Final, NamedTuple

FIRST_NAMES: Final = (
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Isla", "Jonas", "Kavya", "Liam", "Maya",
    "Noah", "Olivia", "Priya", "Quinn", "Rafael", "Sofia", "Tariq", "Uma", "Victor", "Wen", "Yusuf", "Zoe",
)  # fmt: skip
LAST_NAMES: Final = (
    "Adeyemi", "Brennan", "Castillo", "Dubois", "Eriksen", "Fischer", "Gupta", "Hughes", "Iyer", "Jensen",
    "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Patel", "Rossi", "Schmidt", "Tanaka", "Varga",
)  # fmt: skip
EMAIL_DOMAIN: Final = "sandbox.ledgerline.example"
DEPARTMENTS: Final = (("Engineering", "ENG"), ("Sales", "SAL"), ("Marketing", "MKT"), ("Finance", "FIN"))
TITLES: Final = ("Engineer", "Account Executive", "Designer", "Analyst", "Manager", "Consultant")
LOCATIONS: Final = ("San Francisco", "New York", "London", "Berlin", "Bengaluru", "Toronto")
BUSINESS_UNITS: Final = ("Americas", "EMEA", "APAC")
BANKS: Final = ("American Express", "Chase", "Barclays", "HDFC Bank")


class CategorySeed(NamedTuple):
    name: str
    sub_category: str | None
    system_category: str | None
    code: str
    low: Decimal
    high: Decimal


CATEGORIES: Final = (
    CategorySeed("Travel", "Airfare", "Airlines", "6100", Decimal("120"), Decimal("1400")),
    CategorySeed("Travel", "Hotel", "Lodging", "6110", Decimal("90"), Decimal("900")),
    CategorySeed("Travel", "Taxi", "Taxi", "6120", Decimal("8"), Decimal("95")),
    CategorySeed("Meals & Entertainment", None, "Food", "6200", Decimal("6"), Decimal("320")),
    CategorySeed("Office Supplies", None, "Office Supplies", "6300", Decimal("4"), Decimal("250")),
    CategorySeed("Software", "Subscriptions", "Software", "6400", Decimal("9"), Decimal("600")),
    CategorySeed("Telephone & Internet", None, "Internet", "6500", Decimal("15"), Decimal("140")),
    CategorySeed("Training", None, "Training", "6600", Decimal("50"), Decimal("1200")),
    CategorySeed("Mileage", None, "Mileage", "6700", Decimal("5"), Decimal("180")),
    CategorySeed("Unspecified", None, "Unspecified", "6999", Decimal("5"), Decimal("200")),
)
DISABLED_CATEGORY: Final = CategorySeed("Fuel", None, "Fuel", "6800", Decimal("20"), Decimal("120"))
"""One disabled category, so `is_enabled=eq.true` filters something."""
PROJECTS: Final = (
    ("Apollo", None, "PRJ-100"),
    ("Apollo", "Phase 2", "PRJ-101"),
    ("Borealis", None, "PRJ-200"),
    ("Cascade", None, "PRJ-300"),
    ("Delta Migration", None, "PRJ-400"),
    ("Everest", "Discovery", "PRJ-500"),
    ("Internal", None, "PRJ-900"),
)
COST_CENTERS: Final = (
    ("Research & Development", "CC-10"),
    ("Go To Market", "CC-20"),
    ("General & Administrative", "CC-30"),
    ("Customer Success", "CC-40"),
)
MERCHANTS: Final = (
    "Delta Air Lines", "British Airways", "Marriott", "Hilton", "Uber", "Lyft", "Starbucks", "Pret A Manger",
    "Staples", "Amazon", "Adobe", "Slack", "Zoom", "Verizon", "Comcast", "Coursera", "Shell", "Indigo",
)  # fmt: skip
PURPOSES: Final = (
    "Client visit", "Team offsite", "Conference", "Customer dinner", "Office restock", "Quarterly planning",
    "Sales kickoff", "Onboarding", "Site survey", "Vendor meeting",
)  # fmt: skip
CLIENT_NAMES: Final = ("Acme Corp", "Globex", "Initech", "Umbrella", "Stark Industries")


class ExpenseFieldSeed(NamedTuple):
    field_name: str
    column_name: str
    type: str
    is_custom: bool
    is_mandatory: bool
    options: tuple[str, ...] = ()


EXPENSE_FIELDS: Final = (
    ExpenseFieldSeed("Purpose", "purpose", "TEXT", False, False),
    ExpenseFieldSeed("Merchant", "vendor_id", "SELECT", False, True),
    ExpenseFieldSeed("Date of Spend", "txn_dt", "DATE", False, True),
    ExpenseFieldSeed("Category", "org_category_id", "SELECT", False, True),
    ExpenseFieldSeed("Project", "project_id", "SELECT", False, False),
    ExpenseFieldSeed("Cost Center", "cost_center_id", "SELECT", False, False),
    ExpenseFieldSeed("Client Name", "text_column1", "SELECT", True, False, CLIENT_NAMES),
    ExpenseFieldSeed("Team Size", "decimal_column1", "NUMBER", True, False),
    ExpenseFieldSeed("Billable Reason", "text_column2", "TEXT", True, False),
)


def receipt_png(shade: int) -> bytes:
    """A valid 8x8 grey PNG, so a downloaded receipt opens in an image viewer."""
    width = height = 8
    rows = b"".join(b"\x00" + bytes([shade % 256]) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def receipt_pdf(merchant: str, amount: str) -> bytes:
    """A one-page PDF with the merchant and amount on it."""
    text = f"BT /F1 14 Tf 40 100 Td (Receipt: {merchant} {amount}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(text)).encode() + b" >>\nstream\n" + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    body = b"%PDF-1.4\n"
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n".encode() + content + b"\nendobj\n"
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    return body + trailer.encode()
