"""The Intacct simulator as the exactly-once tests read and steer it: faults on, faults off, and the bills it holds."""

from typing import Any

from tests.sandbox_fixtures import RunningSandbox


def fault(sandbox: RunningSandbox, **spec: Any) -> None:
    """Arm one Intacct fault (`sandbox.faults.FaultSpec` fields)."""
    with sandbox.control() as control:
        control.post("/faults", json={"system": "intacct", **spec}).raise_for_status()


def clear_faults(sandbox: RunningSandbox) -> None:
    with sandbox.control() as control:
        control.delete("/faults").raise_for_status()


def bills(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    """Every bill the simulator holds, with its lines."""
    with sandbox.control() as control:
        return list(control.get("/intacct/documents", params={"object": "APBILL"}).json()["data"])


def bill_shape(sandbox: RunningSandbox) -> tuple[int, int, int]:
    """(bills, distinct references, lines): each of the `books` fixture's six expenses is one line of one bill."""
    found = bills(sandbox)
    return len(found), len({bill["RECORDID"] for bill in found}), sum(len(bill["lines"]) for bill in found)
