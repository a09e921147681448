"""`make test` without Chromium, where it cannot be installed: one line saying what to do, a failure, and no test run.

Nothing on the machine is touched. Make runs with a PATH of a scratch directory only, holding a stand-in `id` (so
the target believes it is root, or not) and, in one case, an `apt-get` that only records being called; a scratch
virtualenv directory holds stand-ins for pytest, ruff and mypy that record being called. `CHROMIUM` names a path that
does not exist. The Makefile is the repository's own, read with `make -f`.
"""

import shutil
import stat
import subprocess
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")
TOOLS = ("python", "pytest", "ruff", "mypy", "ledgerline")


def _script(path: Path, body: str) -> None:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _make(tmp_path: Path, *, uid: int, apt: bool, jobs: int) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`make test` as described above; returns its outcome and the file every stand-in appends its name to."""
    calls = tmp_path / "calls"
    calls.touch()
    path = tmp_path / "path"
    path.mkdir()
    _script(path / "id", f'echo {uid}; echo id "$@" >> {calls}')
    if apt:
        _script(path / "apt-get", f'echo apt-get "$@" >> {calls}; exit 1')
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    for tool in TOOLS:
        _script(venv / "bin" / tool, f"echo {tool} >> {calls}")
    (venv / ".installed").touch()  # newer than pyproject.toml: make does not try to install anything
    assert MAKE is not None, "make test runs through GNU make: install it"
    outcome = subprocess.run(
        [
            MAKE,
            "--no-print-directory",
            f"-j{jobs}",
            "-f",
            str(REPOSITORY / "Makefile"),
            "-C",
            str(REPOSITORY),
            "test",
            f"VENV={venv}",
            f"CHROMIUM={tmp_path / 'no-chromium' / 'chromium'}",
        ],
        env={"PATH": str(path), "HOME": str(tmp_path), "LANG": "C"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return outcome, calls


@pytest.mark.parametrize(
    ("uid", "apt"),
    [(0, False), (1000, True), (1000, False)],
    ids=["root-without-apt", "not-root-with-apt", "neither"],
)
@pytest.mark.parametrize("jobs", [1, 4])
def test_make_test_without_chromium_it_cannot_install_stops_with_one_line_before_any_test(
    tmp_path: Path, uid: int, apt: bool, jobs: int
) -> None:
    outcome, calls = _make(tmp_path, uid=uid, apt=apt, jobs=jobs)
    assert outcome.returncode != 0, outcome.stdout + outcome.stderr
    ours = [line for line in outcome.stderr.splitlines() if not line.startswith("make:")]
    assert len(ours) == 1, outcome.stderr
    missing = tmp_path / "no-chromium" / "chromium"
    assert ours[0].startswith(f"make test needs Chromium at {missing} for the browser tests: install it"), ours
    assert "sudo apt-get install chromium" in ours[0] and "CHROMIUM=/path/to/chromium" in ours[0]
    called = calls.read_text().split()
    assert "pytest" not in called, "the test suite started without Chromium"
    assert "apt-get" not in called, "apt-get was run without root"
    assert "installing" not in outcome.stdout
