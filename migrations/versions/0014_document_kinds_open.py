"""document kinds are the connectors' vocabulary: export_items.document_type keeps a shape, not a closed list

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 03:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLOSED_LIST = "('bill', 'expense_report', 'journal_entry', 'charge_card_transaction', 'payment', 'reimbursement')"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_export_items_document_type_allowed"), "export_items", type_="check")
    op.create_check_constraint(
        op.f("ck_export_items_document_type_shape"), "export_items", "document_type ~ '^[a-z][a-z0-9_]{0,31}$'"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_export_items_document_type_shape"), "export_items", type_="check")
    op.create_check_constraint(
        op.f("ck_export_items_document_type_allowed"), "export_items", f"document_type IN {CLOSED_LIST}"
    )
