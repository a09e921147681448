"""The sandbox fixtures live in `tests/sandbox_fixtures.py` (a plugin of the root conftest) so connector tests share
them; `RunningSandbox` is re-exported here for the sandbox tests' imports."""

from tests.sandbox_fixtures import RunningSandbox

__all__ = ["RunningSandbox"]
