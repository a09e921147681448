"""connections authorized by one consent share its tokens

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 13:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One consent may cover several sets of books (Xero organisations), each a connection of its own, all reached with
# the consent's one token set. Its refresh token is single-use: connections holding copies of it must refresh
# together, so each knows the consent (grant) it shares.
INDEX = "ix_connections_oauth_grant"


def upgrade() -> None:
    op.add_column("connections", sa.Column("oauth_grant", sa.Uuid(), nullable=True))
    op.create_index(
        INDEX, "connections", ["tenant_id", "oauth_grant"], postgresql_where=sa.text("oauth_grant IS NOT NULL")
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="connections")
    op.drop_column("connections", "oauth_grant")
