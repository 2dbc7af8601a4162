"""Accounts, balances, transactions and net worth: the caller's own, every read audited."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
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
from dashtam.core.result import Failure, Success
from dashtam.domain.transactions.entities import Transaction
from dashtam.domain.transactions.repository import TransactionCursor, TransactionQuery
from dashtam.presentation.api.cursors import decode_cursor_bytes, encode_cursor_bytes
from dashtam.presentation.api.dependencies import (
    AuthenticatedContextDep,
    ContainerDep,
    PrincipalDep,
)
from dashtam.presentation.api.finance.schemas import (
    AccountList,
    AccountResponse,
    BalanceHistory,
    BalancePoint,
    CurrencyNetWorth,
    NetWorthResponse,
    TransactionPage,
    TransactionResponse,
    amount_text,
)
from dashtam.presentation.api.problems import error_response

router = APIRouter(prefix="/api/v1", tags=["accounts"])
MAX_EXPORT_ROWS = 10_000
# OWASP CSV injection: cells starting with these are formulas to Excel, LibreOffice, Sheets.
_FORMULA_STARTS = frozenset("=+-@\t\r")


@router.get("/accounts", response_model=AccountList)
async def list_accounts(
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> AccountList | JSONResponse:
    match await container.finance_queries().accounts(principal.user.id, context):
        case Success(accounts):
            return AccountList(items=[AccountResponse.of(a) for a in accounts])
        case Failure(error):
            return error_response(error, request)


@router.get("/accounts/{account_id}", response_model=AccountResponse)
async def get_account(
    account_id: UUID,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> AccountResponse | JSONResponse:
    match await container.finance_queries().account(principal.user.id, account_id, context):
        case Success(account):
            return AccountResponse.of(account)
        case Failure(error):
            return error_response(error, request)


@router.get("/accounts/{account_id}/balance-history", response_model=BalanceHistory)
async def balance_history(
    account_id: UUID,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> BalanceHistory | JSONResponse:
    queries = container.finance_queries()
    match await queries.balance_history(principal.user.id, account_id, context):
        case Success((account, snapshots)):
            return BalanceHistory(
                account_id=account.id,
                currency=account.currency,
                items=[BalancePoint.of(s) for s in snapshots],
            )
        case Failure(error):
            return error_response(error, request)


@router.delete("/accounts/{account_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_account(
    account_id: UUID,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> Response:
    command = DeleteAccount(user_id=principal.user.id, account_id=account_id, context=context)
    match await container.delete_account_handler().handle(command):
        case Success(_):
            return Response(status_code=status.HTTP_204_NO_CONTENT)
        case Failure(error):
            return error_response(error, request)


@router.get("/transactions", response_model=TransactionPage)
async def list_transactions(
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
    account: UUID | None = None,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
    min_amount: Annotated[Decimal | None, Query(max_digits=20, decimal_places=4)] = None,
    max_amount: Annotated[Decimal | None, Query(max_digits=20, decimal_places=4)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
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
            min_amount=min_amount,
            max_amount=max_amount,
            text=q.strip() if q else None,
        ),
        after=after,
        limit=limit,
        context=context,
    )
    match await container.finance_queries().transactions(command):
        case Success(items):
            next_cursor = (
                encode_cursor(TransactionCursor(items[-1].posted_on, items[-1].id))
                if len(items) == limit
                else None
            )
            return TransactionPage(
                items=[TransactionResponse.of(t) for t in items], next_cursor=next_cursor
            )
        case Failure(error):
            return error_response(error, request)


@router.get(
    "/transactions.csv",
    response_class=Response,
    summary="My transactions as CSV (spreadsheet-safe), same filters as /transactions",
)
async def export_transactions(
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
    account: UUID | None = None,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
) -> Response:
    command = SearchTransactions(
        query=TransactionQuery(
            user_id=principal.user.id, account_id=account, posted_from=from_, posted_to=to
        ),
        after=None,
        limit=MAX_EXPORT_ROWS,
        context=context,
    )
    match await container.finance_queries().transactions(command, max_limit=MAX_EXPORT_ROWS):
        case Success(items):
            return Response(
                content=transactions_csv(items),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="transactions.csv"'},
            )
        case Failure(error):
            return error_response(error, request)


@router.get("/users/me/net-worth", response_model=NetWorthResponse)
async def net_worth(
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> NetWorthResponse | JSONResponse:
    match await container.finance_queries().net_worth(principal.user.id, context):
        case Success(totals):
            return NetWorthResponse(items=[CurrencyNetWorth.of(t) for t in totals])
        case Failure(error):
            return error_response(error, request)


def spreadsheet_safe(text: str | None) -> str:
    """A text cell a spreadsheet shows as text: formula-starting cells get a leading quote."""
    if not text:
        return ""
    return "'" + text if text[0] in _FORMULA_STARTS else text


def transactions_csv(items: Sequence[Transaction]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["date", "amount", "currency", "description", "payee", "memo", "status", "id"])
    for item in items:
        writer.writerow(
            [
                item.posted_on.isoformat(),
                amount_text(item.amount),  # a number, never text: left as is
                item.currency,
                spreadsheet_safe(item.description),
                spreadsheet_safe(item.payee),
                spreadsheet_safe(item.memo),
                item.status.value,
                spreadsheet_safe(item.provider_transaction_id),
            ]
        )
    return buffer.getvalue()


def encode_cursor(cursor: TransactionCursor) -> str:
    return encode_cursor_bytes(f"{cursor.posted_on.isoformat()}|{cursor.id}".encode())


def decode_cursor(text: str) -> TransactionCursor | None:
    raw = decode_cursor_bytes(text)
    try:
        day, _, ident = (raw or b"").decode().partition("|")
        return TransactionCursor(date.fromisoformat(day), UUID(ident))
    except (UnicodeDecodeError, ValueError):
        return None
