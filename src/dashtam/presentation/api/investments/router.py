"""Positions, trades, securities and value over time: the caller's own, every read audited."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BeforeValidator

from dashtam.application.investments.queries import (
    MAX_INVESTMENT_PAGE,
    SearchInvestmentTransactions,
)
from dashtam.core.errors import ValidationError
from dashtam.domain.investments.entities import InvestmentKind
from dashtam.domain.investments.repository import (
    InvestmentTransactionCursor,
    InvestmentTransactionQuery,
)
from dashtam.presentation.api.cursors import decode_cursor_bytes, encode_cursor_bytes
from dashtam.presentation.api.dependencies import (
    ContainerDep,
    ReadContextDep,
    ReadPrincipalDep,
)
from dashtam.presentation.api.investments.schemas import (
    AccountHoldingsResponse,
    HoldingsOverview,
    InvestmentTransactionPage,
    InvestmentTransactionResponse,
    SecurityResponse,
    ValueHistoryResponse,
)
from dashtam.presentation.api.openapi import AUTHENTICATED, problems
from dashtam.presentation.api.problems import error_response
from dashtam.presentation.api.responses import respond
from dashtam.presentation.api.validators import IsoDate

router = APIRouter(prefix="/api/v1", tags=["investments"])

AS_OF_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$"
)
_AS_OF = re.compile(AS_OF_PATTERN)


def _as_of_text(value: object) -> object:
    """A day means through its end (UTC); pydantic alone would read it as its first instant,
    and would also take ``0`` as a Unix time."""
    if not isinstance(value, str) or not _AS_OF.fullmatch(value):
        raise ValueError("must be a date (YYYY-MM-DD) or a time (YYYY-MM-DDTHH:MM:SSZ)")
    if len(value) == 10:
        return datetime.combine(date.fromisoformat(value), time.max, tzinfo=UTC)
    return value


def _aware(value: datetime) -> datetime:
    """A time without an offset is UTC, like every stored time."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _as_of_schema(schema: dict[str, Any]) -> None:
    """The document states the text accepted, not pydantic's wider idea of a datetime."""
    schema.pop("anyOf", None)
    schema.update(type="string", pattern=AS_OF_PATTERN)


AsOf = Annotated[
    datetime | None,
    BeforeValidator(_as_of_text),
    AfterValidator(_aware),
    Query(
        description="Positions as of this date (through its end, UTC) or time; default: latest",
        examples=["2025-03-31"],
        json_schema_extra=_as_of_schema,
    ),
]


def encode_cursor(cursor: InvestmentTransactionCursor) -> str:
    return encode_cursor_bytes(f"{cursor.trade_date.isoformat()}|{cursor.id}".encode())


def decode_cursor(text: str) -> InvestmentTransactionCursor | None:
    raw = decode_cursor_bytes(text)
    try:
        day, _, ident = (raw or b"").decode().partition("|")
        return InvestmentTransactionCursor(date.fromisoformat(day), UUID(ident))
    except (UnicodeDecodeError, ValueError):
        return None


@router.get(
    "/accounts/{account_id}/holdings",
    response_model=AccountHoldingsResponse,
    responses=problems(*AUTHENTICATED, 404, 422),
)
async def account_holdings(
    account_id: UUID,
    request: Request,
    principal: ReadPrincipalDep,
    container: ContainerDep,
    context: ReadContextDep,
    as_of: AsOf = None,
) -> AccountHoldingsResponse | JSONResponse:
    queries = container.investment_queries()
    result = await queries.holdings(principal.user.id, account_id, as_of, context)
    return respond(result, request, AccountHoldingsResponse.of)


@router.get("/holdings", response_model=HoldingsOverview, responses=problems(*AUTHENTICATED))
async def all_holdings(
    request: Request,
    principal: ReadPrincipalDep,
    container: ContainerDep,
    context: ReadContextDep,
) -> HoldingsOverview | JSONResponse:
    result = await container.investment_queries().all_holdings(principal.user.id, context)
    return respond(result, request, HoldingsOverview.of)


@router.get(
    "/securities/{security_id}",
    response_model=SecurityResponse,
    responses=problems(*AUTHENTICATED, 404, 422),
)
async def get_security(
    security_id: UUID,
    request: Request,
    container: ContainerDep,
    context: ReadContextDep,  # any signed-in user (or read token) may read a security
) -> SecurityResponse | JSONResponse:
    result = await container.investment_queries().security(security_id, context)
    return respond(result, request, SecurityResponse.of)


@router.get(
    "/accounts/{account_id}/investment-transactions",
    response_model=InvestmentTransactionPage,
    responses=problems(*AUTHENTICATED, 404, 422),
)
async def investment_transactions(
    account_id: UUID,
    request: Request,
    principal: ReadPrincipalDep,
    container: ContainerDep,
    context: ReadContextDep,
    security: Annotated[UUID | None, Query(description="Only this security's")] = None,
    kind: Annotated[InvestmentKind | None, Query(description="Only this kind")] = None,
    from_: Annotated[
        date | None, IsoDate, Query(alias="from", description="Traded on or after")
    ] = None,
    to: Annotated[date | None, IsoDate, Query(description="Traded on or before")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_INVESTMENT_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> InvestmentTransactionPage | JSONResponse:
    after = decode_cursor(cursor) if cursor else None
    if cursor and after is None:
        invalid = ValidationError("the cursor is not valid", details={"field": "cursor"})
        return error_response(invalid, request)
    query = InvestmentTransactionQuery(
        account_id=account_id, security_id=security, kind=kind, trade_from=from_, trade_to=to
    )
    command = SearchInvestmentTransactions(
        user_id=principal.user.id, query=query, after=after, limit=limit, context=context
    )
    result = await container.investment_queries().transaction_page(command)
    return respond(
        result,
        request,
        lambda page: InvestmentTransactionPage(
            items=[InvestmentTransactionResponse.of(t) for t in page.items],
            next_cursor=encode_cursor(page.next_after) if page.next_after else None,
        ),
    )


@router.get(
    "/accounts/{account_id}/value-history",
    response_model=ValueHistoryResponse,
    responses=problems(*AUTHENTICATED, 404, 422),
)
async def value_history(
    account_id: UUID,
    request: Request,
    principal: ReadPrincipalDep,
    container: ContainerDep,
    context: ReadContextDep,
) -> ValueHistoryResponse | JSONResponse:
    queries = container.investment_queries()
    result = await queries.value_history(principal.user.id, account_id, context)
    return respond(result, request, ValueHistoryResponse.of)
