"""an exported document is unique per kind, not per connection

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Destinations number documents per object: Sage Intacct's bill 1 and card transaction 1 are two documents. One
# unique (connection, remote id) refused the second item recording its document, and the export job failed with its
# items left running. A document is one per (connection, kind, remote id).
OLD = "uq_export_items_remote_document"
NEW = "uq_export_items_remote_document_kind"


def upgrade() -> None:
    op.create_index(
        NEW,
        "export_items",
        ["destination_connection_id", "document_type", "remote_id"],
        unique=True,
        postgresql_where=sa.text("remote_id IS NOT NULL"),
    )
    op.drop_index(OLD, table_name="export_items")


def downgrade() -> None:
    op.create_index(
        OLD,
        "export_items",
        ["destination_connection_id", "remote_id"],
        unique=True,
        postgresql_where=sa.text("remote_id IS NOT NULL"),
    )
    op.drop_index(NEW, table_name="export_items")
