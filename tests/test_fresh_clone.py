"""A fresh clone, with nothing of the workspace beside it, collects the whole suite: a test that reads a path outside
the repository (as the spec checks once read `../shared/specs`) is caught here, not on a new user's machine."""

import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


def test_a_clone_with_nothing_beside_it_collects_every_test_and_names_no_outside_path(tmp_path: Path) -> None:
    clone = tmp_path / "ledgerline"
    subprocess.run(["git", "clone", "--quiet", str(REPOSITORY), str(clone)], check=True)
    assert not (tmp_path / "shared").exists()
    env = os.environ | {"PYTHONPATH": str(clone)}  # the clone's code, not the editable install's
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-3000:]
    assert " error" not in collected.stdout.splitlines()[-1], collected.stdout[-3000:]
    outside = subprocess.run(
        ["git", "grep", "-n", "-e", "../shared/specs", "-e", "/work/shared", "--", ":!tests/test_fresh_clone.py"],
        cwd=clone,
        capture_output=True,
        text=True,
    )
    assert outside.stdout == "", f"files name a path outside the repository:\n{outside.stdout}"
