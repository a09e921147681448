"""A posting into a closed period is recognised in each wording Intacct is known to use, and names the refused date.

Intacct publishes no error number for it (the refusal carries the generic business-rule number), so the text
decides: one test per known message, plus the connector over the simulator's real wording.
"""

from datetime import date

import httpx
import pytest

from connectors.intacct import IntacctConnector
from connectors.intacct.envelope import ErrorDetail
from connectors.intacct.errors import classify_errors
from core.errors import DestinationRejected, PeriodClosed
from tests.connectors.intacct import factories

TRAILER = ErrorDetail("BL01001973", "", "Could not create Bill record!", "")


@pytest.mark.parametrize(
    ("description2", "closed_on"),
    [
        # What users of Intacct integrations see (quoted in third-party help pages).
        (
            "Periods are closed. Your transaction date (11/03/2026) is within a period that's been closed.",
            date(2026, 11, 3),
        ),
        # The same sentence naming the period first.
        (
            "The period 'Month Ended November 2026' is closed. Your transaction date (11/03/2026) is within a period "
            "that's been closed.",
            date(2026, 11, 3),
        ),
        # A wording without the date: still a closed period, the refused date then being the document's own.
        ("Cannot post to a closed period.", None),
    ],
)
def test_each_known_closed_period_message_is_a_period_closed_refusal_naming_its_date(
    description2: str, closed_on: date | None
) -> None:
    error = classify_errors([ErrorDetail("BL01001973", "", description2, "Open the period."), TRAILER])

    assert isinstance(error, PeriodClosed) and isinstance(error, DestinationRejected)
    assert error.code == "period_closed"
    assert error.closed_on == closed_on
    assert error.provider_code == "BL01001973"
    assert description2 in error.message


def test_a_message_merely_mentioning_a_period_is_not_a_closed_period() -> None:
    error = classify_errors([ErrorDetail("BL01001973", "", "Invalid Vendor 'Period 4 Closed Ltd' specified.", "")])

    assert not isinstance(error, PeriodClosed)
    assert error.code == "invalid_reference"


async def test_the_simulator_refuses_a_closed_period_in_the_real_wording(
    connector: IntacctConnector, control: httpx.AsyncClient
) -> None:
    (await control.put("/periods", json={"open_from": "2024-04-01"})).raise_for_status()

    [outcome] = await connector.push([factories.bill("ll-closed-real", transaction_date=date(2024, 3, 15))])

    assert isinstance(outcome, PeriodClosed), outcome
    assert outcome.message.startswith(
        "Periods are closed. Your transaction date (03/15/2024) is within a period that's been closed."
    )
    assert outcome.closed_on == date(2024, 3, 15)
