"""Accounts, balances, transactions and net worth: the caller's own, every read audited."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from dashtam.application.finance.commands import (
    MAX_TRANSACTION_PAGE,
    DeleteAccount,
    SearchTransactions,
)
from dashtam.core.errors import ValidationError
from dashtam.domain.money import AMOUNT_SCALE, MAX_AMOUNT
from dashtam.domain.transactions.repository import TransactionCursor, TransactionQuery
from dashtam.presentation.api.cursors import decode_cursor_bytes, encode_cursor_bytes
from dashtam.presentation.api.dependencies import (
    AuthenticatedContextDep,
    ContainerDep,
    PrincipalDep,
)
from dashtam.presentation.api.finance.export import transactions_csv
from dashtam.presentation.api.finance.schemas import (
    AccountList,
    AccountResponse,
    BalanceHistory,
    BalancePoint,
    CurrencyNetWorth,
    NetWorthResponse,
    TransactionPage,
    TransactionResponse,
)
from dashtam.presentation.api.openapi import AUTHENTICATED, problems
from dashtam.presentation.api.problems import error_response
from dashtam.presentation.api.responses import no_content, respond
from dashtam.presentation.api.validators import (
    NO_CONTROL_CHARACTERS_SCHEMA,
    IsoDate,
    NoControlCharacters,
)

router = APIRouter(prefix="/api/v1", tags=["accounts"])
MAX_EXPORT_ROWS = 10_000
# A signed decimal string below MAX_ABS_AMOUNT with at most AMOUNT_SCALE places: no stored
# amount lies outside it, and a bound beyond it would overflow SQLite's scaled integer. A
# pattern (not a Decimal with a range) so that the document states exactly what is accepted.
AMOUNT_PATTERN = rf"^[+-]?[0-9]{{1,{len(str(int(MAX_AMOUNT)))}}}(\.[0-9]{{1,{AMOUNT_SCALE}}})?$"
AmountFilter = Annotated[
    str | None,
    Query(pattern=AMOUNT_PATTERN, description="A decimal amount, e.g. -12.5", examples=["-12.5"]),
]


@router.get("/accounts", response_model=AccountList, responses=problems(*AUTHENTICATED))
async def list_accounts(
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> AccountList | JSONResponse:
    result = await container.finance_queries().accounts(principal.user.id, context)
    return respond(
        result,
        request,
        lambda accounts: AccountList(items=[AccountResponse.of(a) for a in accounts]),
    )


@router.get(
    "/accounts/{account_id}",
    response_model=AccountResponse,
    responses=problems(*AUTHENTICATED, 404, 422),
)
async def get_account(
    account_id: UUID,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> AccountResponse | JSONResponse:
    result = await container.finance_queries().account(principal.user.id, account_id, context)
    return respond(result, request, AccountResponse.of)


@router.get(
    "/accounts/{account_id}/balance-history",
    response_model=BalanceHistory,
    responses=problems(*AUTHENTICATED, 404, 422),
)
async def balance_history(
    account_id: UUID,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> BalanceHistory | JSONResponse:
    queries = container.finance_queries()
    result = await queries.balance_history(principal.user.id, account_id, context)
    return respond(
        result,
        request,
        lambda found: BalanceHistory(
            account_id=found[0].id,
            currency=found[0].currency,
            items=[BalancePoint.of(s) for s in found[1]],
        ),
    )


@router.delete(
    "/accounts/{account_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(*AUTHENTICATED, 404, 409, 422),
)
async def delete_account(
    account_id: UUID,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> Response:
    command = DeleteAccount(user_id=principal.user.id, account_id=account_id, context=context)
    result = await container.delete_account_handler().handle(command)
    return respond(result, request, no_content)


@router.get(
    "/transactions",
    response_model=TransactionPage,
    responses=problems(*AUTHENTICATED, 404, 422),
)
async def list_transactions(
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
    account: UUID | None = None,
    from_: Annotated[date | None, IsoDate, Query(alias="from")] = None,
    to: Annotated[date | None, IsoDate, Query()] = None,
    min_amount: AmountFilter = None,
    max_amount: AmountFilter = None,
    q: Annotated[
        str | None,
        NoControlCharacters,
        Query(
            max_length=100,
            description="Text in the description, payee or memo",
            json_schema_extra=NO_CONTROL_CHARACTERS_SCHEMA,
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_TRANSACTION_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> TransactionPage | JSONResponse:
    after = decode_cursor(cursor) if cursor else None
    if cursor and after is None:
        invalid = ValidationError("the cursor is not valid", details={"field": "cursor"})
        return error_response(invalid, request)
    command = SearchTransactions(
        query=TransactionQuery(
            user_id=principal.user.id,
            account_id=account,
            posted_from=from_,
            posted_to=to,
            min_amount=Decimal(min_amount) if min_amount else None,
            max_amount=Decimal(max_amount) if max_amount else None,
            text=q.strip() if q else None,
        ),
        after=after,
        limit=limit,
        context=context,
    )
    result = await container.finance_queries().transactions(command)
    return respond(
        result,
        request,
        lambda items: TransactionPage(
            items=[TransactionResponse.of(t) for t in items],
            next_cursor=(
                encode_cursor(TransactionCursor(items[-1].posted_on, items[-1].id))
                if len(items) == limit
                else None
            ),
        ),
    )


@router.get(
    "/transactions.csv",
    response_class=Response,
    summary="My transactions as CSV (spreadsheet-safe), same filters as /transactions",
    responses={
        200: {
            "description": "The transactions",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **problems(*AUTHENTICATED, 404, 422),
    },
)
async def export_transactions(
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
    account: UUID | None = None,
    from_: Annotated[date | None, IsoDate, Query(alias="from")] = None,
    to: Annotated[date | None, IsoDate, Query()] = None,
) -> Response:
    command = SearchTransactions(
        query=TransactionQuery(
            user_id=principal.user.id, account_id=account, posted_from=from_, posted_to=to
        ),
        after=None,
        limit=MAX_EXPORT_ROWS,
        context=context,
    )
    result = await container.finance_queries().transactions(command, max_limit=MAX_EXPORT_ROWS)
    return respond(
        result,
        request,
        lambda items: Response(
            content=transactions_csv(items),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="transactions.csv"'},
        ),
    )


@router.get(
    "/users/me/net-worth", response_model=NetWorthResponse, responses=problems(*AUTHENTICATED)
)
async def net_worth(
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> NetWorthResponse | JSONResponse:
    result = await container.finance_queries().net_worth(principal.user.id, context)
    return respond(
        result,
        request,
        lambda totals: NetWorthResponse(items=[CurrencyNetWorth.of(t) for t in totals]),
    )


def encode_cursor(cursor: TransactionCursor) -> str:
    return encode_cursor_bytes(f"{cursor.posted_on.isoformat()}|{cursor.id}".encode())


def decode_cursor(text: str) -> TransactionCursor | None:
    raw = decode_cursor_bytes(text)
    try:
        day, _, ident = (raw or b"").decode().partition("|")
        return TransactionCursor(date.fromisoformat(day), UUID(ident))
    except (UnicodeDecodeError, ValueError):
        return None
