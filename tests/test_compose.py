"""docker-compose.yml ships no secret: it generates them on first start, and what it generates passes the checks
production applies (`docker compose config` needs a Docker engine; this checks what can be checked without one)."""

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import LEDGERLINE_CLI

ROOT = Path(__file__).parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SECRET_NAMES = re.compile(r"PASSWORD|SECRET|VAULT_KEYS|DATABASE_URL")
DEFAULT = re.compile(r"\$\{(?P<name>\w+):?-(?P<default>[^}]*)\}")


def _ledgerline_services() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in COMPOSE["services"].items()
        if service.get("image") == "ledgerline:latest" and name != "secrets"
    }


def test_no_secret_has_a_default_value_in_the_compose_file() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for found in DEFAULT.finditer(text):
        if SECRET_NAMES.search(found["name"]):
            assert found["default"] == "", f"{found['name']} defaults to a value shipped in the repository"
    postgres = COMPOSE["services"]["postgres"]["environment"]
    assert "POSTGRES_PASSWORD" not in postgres
    assert postgres["POSTGRES_PASSWORD_FILE"].startswith("/run/ledgerline-secrets/")


def test_every_service_starts_after_the_secrets_are_generated_and_loads_them() -> None:
    generator = COMPOSE["services"]["secrets"]
    assert "ledgerline secrets generate --dir /run/ledgerline-secrets" in " ".join(generator["command"])
    assert COMPOSE["services"]["postgres"]["depends_on"]["secrets"]["condition"] == "service_completed_successfully"
    for name, service in _ledgerline_services().items():
        assert "secrets:/run/ledgerline-secrets:ro" in service["volumes"], name
        assert ". /run/ledgerline-secrets/ledgerline.env" in service["entrypoint"][2], name
        waits_for = set(service["depends_on"])
        assert waits_for & {"secrets", "migrate", "postgres"}, f"{name} may start before the secrets exist"
    assert "secrets" in COMPOSE["volumes"]


def _generate(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LEDGERLINE_CLI, "secrets", "generate", "--dir", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )


def test_generated_secrets_pass_the_production_checks_and_are_kept_on_restart(tmp_path: Path) -> None:
    first = _generate(tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    env_file = tmp_path / "ledgerline.env"
    password = (tmp_path / "postgres-password").read_text()
    assert env_file.stat().st_mode & 0o077 == 0, "only its owner may read the secrets"
    assert password not in first.stdout and "LEDGERLINE_SESSION_SECRET" not in first.stdout

    # Loaded the way the compose entrypoint loads it, then checked by the settings production uses.
    check = (
        "from core.settings import Settings; s = Settings(); "
        "assert s.env == 'prod' and s.database_url and s.database_app_password; print(s.database_url.count('@'))"
    )
    loaded = subprocess.run(
        ["sh", "-c", f'set -a && . "{env_file}" && set +a && exec "$0" -c "$1"', sys.executable, check],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "LEDGERLINE_ENV": "prod", "LEDGERLINE_SESSION_SECRET": ""},
        cwd=ROOT,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert f"postgresql://ledgerline:{password}@postgres:5432/ledgerline" in env_file.read_text()

    before = env_file.read_text()
    again = _generate(tmp_path)
    assert again.returncode == 0 and "Kept the existing" in again.stdout
    assert env_file.read_text() == before and (tmp_path / "postgres-password").read_text() == password
