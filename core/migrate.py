"""Run the Alembic migrations from code (the CLI, the demo and the tests all come through here)."""

from importlib.resources import files

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from core.constants import APP_DB_ROLE
from core.db import sqlalchemy_url


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("migrations")))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def set_app_role_password(database_url: str, password: str) -> None:
    """Give the service role a password, for servers that do not trust local logins."""
    engine = create_engine(sqlalchemy_url(database_url), poolclass=NullPool)
    with engine.begin() as connection:
        quoted = connection.execute(text("SELECT quote_literal(:p)"), {"p": password}).scalar_one()
        connection.execute(text(f"ALTER ROLE {APP_DB_ROLE} PASSWORD {quoted}"))
    engine.dispose()
