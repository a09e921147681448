"""`GET /v1/connections/{id}/reconciliation`: the books check (`sync.books_check`) of one destination over HTTP.

The same comparison as `ledgerline books check`: the source's exportable expenses spent in the range against the
destination's documents, by the expense ids their lines name. Money is a decimal string in its currency.
"""

import uuid
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import DatabaseDep, SettingsDep, TenantDep
from api.timestamps import DateText
from core.errors import AuthError, LedgerlineError, ValidationError
from sync.books_check import DEFAULT_RANGE_DAYS, BooksReport, UnknownConnectionError, check_connection_books
from web.problems import Problem, problem_responses

router = APIRouter(prefix="/connections", tags=["reconciliation"])


class MissingPublic(BaseModel):
    expense_id: str
    report_id: str | None
    currency: str
    amount: Decimal
    reference: str | None = Field(description="The item whose document should hold it, if one does.")


class DuplicatedPublic(BaseModel):
    expense_id: str
    references: list[str]
    remote_ids: list[str]


class DifferencePublic(BaseModel):
    expense_id: str
    reference: str
    remote_id: str
    currency: str
    source: Decimal
    booked: Decimal


class CurrencyTotalPublic(BaseModel):
    currency: str
    source: Decimal
    booked: Decimal
    difference: Decimal


class UnreadablePublic(BaseModel):
    entity: str
    reason: str


class ReconciliationPublic(BaseModel):
    since: date = Field(serialization_alias="from")
    until: date = Field(serialization_alias="to")
    clean: bool = Field(description="True when the books and the source agree: no difference of any kind.")
    difference_count: int
    expenses: int = Field(description="Exportable expenses of the source spent in the range.")
    documents: int = Field(description="Destination documents naming at least one of them.")
    missing: list[MissingPublic]
    duplicated: list[DuplicatedPublic]
    differences: list[DifferencePublic]
    currencies: list[CurrencyTotalPublic]
    unreadable: list[UnreadablePublic] = Field(
        description="Entities of the destination that could not be read: their documents were not compared."
    )

    @classmethod
    def of(cls, report: BooksReport) -> "ReconciliationPublic":
        return cls(
            since=report.since,
            until=report.until,
            clean=report.clean,
            difference_count=report.difference_count,
            expenses=report.expenses,
            documents=report.documents,
            missing=[MissingPublic.model_validate(asdict(entry)) for entry in report.missing],
            duplicated=[DuplicatedPublic.model_validate(asdict(entry)) for entry in report.duplicated],
            differences=[DifferencePublic.model_validate(asdict(entry)) for entry in report.differences],
            currencies=[
                CurrencyTotalPublic(
                    currency=total.currency, source=total.source, booked=total.booked, difference=total.difference
                )
                for total in report.currencies
            ],
            unreadable=[UnreadablePublic.model_validate(asdict(entry)) for entry in report.unreadable],
        )


@router.get(
    "/{connection_id}/reconciliation",
    response_model=ReconciliationPublic,
    response_model_by_alias=True,
    summary="Compare the source's exportable expenses with the destination's documents over a date range",
    responses=problem_responses(
        {
            409: "The destination cannot be checked as it stands: it exports documents that cannot be read back yet, "
            "or it has no credentials it accepts.",
            502: "The destination could not be read (an outage, or an answer that makes no sense).",
        }
    ),
)
async def reconciliation(
    connection_id: uuid.UUID,
    tenant_id: TenantDep,
    database: DatabaseDep,
    settings: SettingsDep,
    since: Annotated[
        DateText | None, Query(alias="from", description="First day of spend; a month before `to`.")
    ] = None,
    until: Annotated[DateText | None, Query(alias="to", description="Last day of spend, inclusive; today.")] = None,
) -> ReconciliationPublic:
    until = until or datetime.now(UTC).date()
    since = since or until - timedelta(days=DEFAULT_RANGE_DAYS)
    if until < since:
        raise Problem(422, f"The range ends ({until}) before it starts ({since}).", problem="invalid-range")
    try:
        report = await check_connection_books(
            database=database,
            settings=settings,
            tenant_id=tenant_id,
            connection_id=connection_id,
            since=since,
            until=until,
        )
    except UnknownConnectionError as exc:
        raise Problem(404, f"No destination connection {connection_id} exists for this key.") from exc
    except ValidationError as exc:
        raise Problem(409, str(exc), problem="books-not-checkable") from exc
    except AuthError as exc:  # not an outage: this connection must be given credentials the destination takes
        raise Problem(409, f"The destination refused this connection: {exc}", problem="credentials-refused") from exc
    except LedgerlineError as exc:
        raise Problem(502, f"The destination could not be read: {exc}", problem="destination-unreadable") from exc
    return ReconciliationPublic.of(report)
