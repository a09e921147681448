"""the day an item's document was re-dated to because its period was closed in the destination

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("export_items", sa.Column("redated_to", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("export_items", "redated_to")
