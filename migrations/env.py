"""Alembic environment: runs migrations as the table owner, synchronously (psycopg 3), one transaction each."""

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from core.db import sqlalchemy_url
from core.models import Base
from core.settings import get_settings

config = context.config
database_url = config.attributes.get("database_url") or get_settings().database_url
if not database_url:
    raise SystemExit("LEDGERLINE_DATABASE_URL is not set: nothing to migrate.")

engine = create_engine(sqlalchemy_url(database_url), poolclass=NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
