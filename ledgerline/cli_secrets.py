"""`ledgerline secrets generate`: the secrets of a fresh deployment, made on the spot instead of shipped in a file.

docker-compose.yml runs it once before anything else. It never overwrites: a second run keeps the values already
there, since a new vault key would leave stored credentials unreadable and PostgreSQL takes its password only when it
first creates its data. It prints file names, never values.
"""

import os
import secrets
from pathlib import Path
from typing import Annotated

import typer

from core.crypto import CredentialVault
from ledgerline.cli_support import console

secrets_app = typer.Typer(help="Generate a deployment's secrets.", no_args_is_help=True)

SECRET_BYTES = 32
"""Each password and the session secret: 32 random bytes, what `core.secret_strength` asks of the session secret."""
POSTGRES_PASSWORD_FILE = "postgres-password"  # noqa: S105 - a file name, not a password
ENV_FILE = "ledgerline.env"
DATABASE_PASSWORD_PLACEHOLDER = "{password}"  # noqa: S105 - where the generated password goes
OWNER_ONLY = 0o600
READABLE = 0o644
"""The PostgreSQL image reads its password file as its own user, after dropping root."""


def _env_file(database_url: str) -> str:
    """Shell assignments for `set -a; . ledgerline.env`: a value already set in the environment wins."""
    values = {
        "LEDGERLINE_DATABASE_URL": database_url,
        "LEDGERLINE_DATABASE_APP_PASSWORD": secrets.token_urlsafe(SECRET_BYTES),
        "LEDGERLINE_VAULT_KEYS": CredentialVault.new_key(),
        "LEDGERLINE_SESSION_SECRET": secrets.token_urlsafe(SECRET_BYTES),
    }
    return "".join(f'{name}="${{{name}:-{value}}}"\n' for name, value in values.items())


def _write_new(path: Path, content: str, mode: int) -> bool:
    """Create `path` with `content` unless it exists; True when created."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as file:
        file.write(content)
    os.chmod(path, mode)  # the umask may have narrowed it
    return True


@secrets_app.command("generate")
def secrets_generate(
    directory: Annotated[Path, typer.Option("--dir", help="Where to write the secret files (a private volume).")],
    database_url: Annotated[
        str,
        typer.Option(help="The owner's PostgreSQL URL; `{password}` stands for the generated PostgreSQL password."),
    ] = "postgresql://ledgerline:{password}@postgres:5432/ledgerline",
) -> None:
    """Write `postgres-password` and `ledgerline.env` (database URL, service role password, vault key, session
    secret) into DIR, each only if it does not exist yet."""
    if DATABASE_PASSWORD_PLACEHOLDER not in database_url:
        console.print(f"[red]--database-url must contain {DATABASE_PASSWORD_PLACEHOLDER}.[/red]")
        raise typer.Exit(2)
    directory.mkdir(parents=True, exist_ok=True)
    password_path = directory / POSTGRES_PASSWORD_FILE
    if _write_new(password_path, secrets.token_urlsafe(SECRET_BYTES), READABLE):
        console.print(f"Generated {password_path}.")
    else:
        console.print(f"Kept the existing {password_path}.")
    password = password_path.read_text().strip()
    env_path = directory / ENV_FILE
    if _write_new(env_path, _env_file(database_url.replace(DATABASE_PASSWORD_PLACEHOLDER, password)), OWNER_ONLY):
        console.print(f"Generated {env_path}.")
    else:
        console.print(f"Kept the existing {env_path}.")
