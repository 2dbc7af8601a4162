"""Accounts, balances, transactions and net worth: the caller's own, every read audited."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse

from dashtam.application.finance.commands import (
    MAX_TRANSACTION_PAGE,
    DeleteAccount,
    SearchTransactions,
)
from dashtam.application.finance.queries import TransactionSlice
from dashtam.core.errors import Error, ValidationError
from dashtam.core.result import Result
from dashtam.domain.audit import AuditContext
from dashtam.domain.transactions.repository import TransactionCursor
from dashtam.presentation.api.dependencies import (
    ContainerDep,
    ReadContextDep,
    ReadPrincipalDep,
    WriteContextDep,
    WritePrincipalDep,
    get_container_dep,
)
from dashtam.presentation.api.finance import export
from dashtam.presentation.api.finance.schemas import (
    AccountList,
    AccountResponse,
    BalanceHistory,
    BalancePoint,
    CurrencyNetWorth,
    NetWorthResponse,
    TransactionPage,
    account_fields,
    transaction_fields,
)
from dashtam.presentation.api.finance.transaction_params import (
    TransactionFiltersDep,
    decode_cursor,
    encode_cursor,
)
from dashtam.presentation.api.openapi import AUTHENTICATED, problems
from dashtam.presentation.api.problems import error_response
from dashtam.presentation.api.responses import json_shaped, no_content, respond

router = APIRouter(prefix="/api/v1", tags=["accounts"])


# The two hottest reads (one account, a page of transactions) depend on the authenticated
# context alone, which authenticates the caller on the way, and take the container from the
# app: FastAPI solves each dependency a route names on every request, one it has already
# solved included (with all of its own), so naming the principal and the container as well
# cost more than the rest of the routing.
def _caller(context: AuditContext) -> UUID:
    """The authenticated caller of ``ReadContextDep`` (which always names one)."""
    assert context.actor_id is not None
    return context.actor_id


@router.get("/accounts", response_model=AccountList, responses=problems(*AUTHENTICATED))
async def list_accounts(
    request: Request,
    principal: ReadPrincipalDep,
    container: ContainerDep,
    context: ReadContextDep,
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
async def get_account(account_id: UUID, request: Request, context: ReadContextDep) -> Response:
    queries = (await get_container_dep(request)).finance_queries()
    result = await queries.account(_caller(context), account_id, context)
    return respond(result, request, lambda account: json_shaped(account_fields(account)))


@router.get(
    "/accounts/{account_id}/balance-history",
    response_model=BalanceHistory,
    responses=problems(*AUTHENTICATED, 404, 422),
)
async def balance_history(
    account_id: UUID,
    request: Request,
    principal: ReadPrincipalDep,
    container: ContainerDep,
    context: ReadContextDep,
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
    principal: WritePrincipalDep,
    container: ContainerDep,
    context: WriteContextDep,
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
    context: ReadContextDep,
    filters: TransactionFiltersDep,
    limit: Annotated[int, Query(ge=1, le=MAX_TRANSACTION_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    after = decode_cursor(cursor) if cursor else None
    if cursor and after is None:
        invalid = ValidationError("the cursor is not valid", details={"field": "cursor"})
        return error_response(invalid, request)
    command = SearchTransactions(
        query=filters.query(_caller(context)), after=after, limit=limit, context=context
    )
    result = await (await get_container_dep(request)).finance_queries().transaction_page(command)
    return respond(
        result,
        request,
        lambda page: json_shaped(
            {
                "items": [transaction_fields(t) for t in page.items],
                "next_cursor": encode_cursor(page.next_after) if page.next_after else None,
            }
        ),
    )


@router.get(
    "/transactions.csv",
    response_class=Response,
    summary="My transactions as CSV (spreadsheet-safe), same filters as /transactions",
    description="Every matching transaction, newest first, streamed; no paging parameters.",
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
    principal: ReadPrincipalDep,
    container: ContainerDep,
    context: ReadContextDep,
    filters: TransactionFiltersDep,
) -> Response:
    query = filters.query(principal.user.id)
    queries = container.finance_queries()
    page_size = export.EXPORT_PAGE

    def page(after: TransactionCursor | None) -> Awaitable[Result[TransactionSlice, Error]]:
        command = SearchTransactions(query=query, after=after, limit=page_size, context=context)
        return queries.transaction_page(command, max_limit=page_size)

    # The first page is read before answering: a refusal (someone else's account, the
    # database down) is still a problem response, not a broken download.
    first = await page(None)
    return respond(
        first,
        request,
        lambda found: StreamingResponse(
            export.csv_stream(found, page),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="transactions.csv"'},
        ),
    )


@router.get(
    "/users/me/net-worth", response_model=NetWorthResponse, responses=problems(*AUTHENTICATED)
)
async def net_worth(
    request: Request,
    principal: ReadPrincipalDep,
    container: ContainerDep,
    context: ReadContextDep,
) -> NetWorthResponse | JSONResponse:
    result = await container.finance_queries().net_worth(principal.user.id, context)
    return respond(
        result,
        request,
        lambda totals: NetWorthResponse(items=[CurrencyNetWorth.of(t) for t in totals]),
    )
