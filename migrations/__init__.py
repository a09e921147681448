"""Alembic migrations. Run them with `ledgerline migrate`."""
