"""exactly once across resends: the generation an item (and the payment recorded for it) was last sent in, and a
note when the document as first sent no longer matches what the settings and mappings would build now

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("export_items", sa.Column("send_generation", sa.Integer(), server_default="0", nullable=False))
    op.add_column("export_items", sa.Column("document_drift", sa.Text(), nullable=True))
    op.add_column("export_items", sa.Column("request_key", sa.String(64), nullable=True))
    op.add_column("export_items", sa.Column("payment_generation", sa.Integer(), server_default="0", nullable=False))
    op.create_check_constraint(
        op.f("ck_export_items_send_generation_not_negative"), "export_items", "send_generation >= 0"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_export_items_send_generation_not_negative"), "export_items")
    op.drop_column("export_items", "payment_generation")
    op.drop_column("export_items", "request_key")
    op.drop_column("export_items", "document_drift")
    op.drop_column("export_items", "send_generation")
