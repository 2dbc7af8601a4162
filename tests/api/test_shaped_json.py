"""The hot reads send plain values as JSON (``json_shaped``): the same bytes as the response
model that the route declares would make through FastAPI, whatever the text and the numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
from asyncpg.pgproto import pgproto
from fastapi import FastAPI, Response
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashtam.core.ids import new_id
from dashtam.domain.accounts.entities import Account, AccountType
from dashtam.domain.money import AMOUNT_SCALE, MAX_AMOUNT
from dashtam.domain.transactions.entities import Transaction, TransactionStatus
from dashtam.presentation.api.finance.schemas import (
    AccountResponse,
    TransactionPage,
    TransactionResponse,
    account_fields,
    transaction_fields,
)
from dashtam.presentation.api.responses import json_shaped

# Anything a column may hold: every code point but surrogates (which no database gives back).
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
AMOUNTS = st.decimals(
    min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, places=AMOUNT_SCALE, allow_nan=False
)
MOMENTS = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
# Ids as read: SQLite's rows hold ``uuid.UUID``, asyncpg returns its own subclass.
AS_READ = st.sampled_from([lambda ident: ident, lambda ident: pgproto.UUID(str(ident))])


@st.composite
def transactions(draw: st.DrawFn) -> Transaction:
    as_read = draw(AS_READ)
    ident = as_read(new_id())
    return Transaction(
        id=ident,
        account_id=as_read(new_id()),
        provider_transaction_id=draw(TEXT),
        amount=draw(AMOUNTS),
        currency=draw(st.sampled_from(["USD", "EUR", "JPY"])),
        posted_on=draw(st.dates(min_value=date(1900, 1, 1))),
        description=draw(TEXT),
        payee=draw(st.none() | TEXT),
        memo=draw(st.none() | TEXT),
        status=draw(st.sampled_from(TransactionStatus)),
        check_number=draw(st.none() | TEXT),
        reference=draw(st.none() | TEXT),
        # Unlinked, linked to another row, or marked "not a transfer" (its own id).
        transfer_id=draw(st.sampled_from([None, as_read(new_id()), ident])),
    )


@st.composite
def accounts(draw: st.DrawFn) -> Account:
    as_read = draw(AS_READ)
    return Account(
        id=as_read(new_id()),
        user_id=new_id(),
        connection_id=as_read(new_id()),
        provider_account_id=draw(TEXT),
        name=draw(TEXT),
        account_type=draw(st.sampled_from(AccountType)),
        currency="USD",
        balance=draw(st.none() | AMOUNTS),
        balance_as_of=draw(st.none() | MOMENTS),
        available_balance=draw(st.none() | AMOUNTS),
        available_balance_as_of=draw(st.none() | MOMENTS),
    )


def _twin_routes(body: dict[str, Any]) -> FastAPI:
    """A route sending the response model, the way the routes did, and one sending
    ``json_shaped``: the bytes must be the same."""
    app = FastAPI()

    @app.get("/model/transactions", response_model=TransactionPage)
    async def page_model() -> TransactionPage:
        return TransactionPage(
            items=[TransactionResponse.of(t) for t in body["transactions"]],
            next_cursor=body["cursor"],
        )

    @app.get("/shaped/transactions", response_model=TransactionPage)
    async def page_shaped() -> Response:
        items = [transaction_fields(t) for t in body["transactions"]]
        return json_shaped({"items": items, "next_cursor": body["cursor"]})

    @app.get("/model/account", response_model=AccountResponse)
    async def account_model() -> AccountResponse:
        return AccountResponse.of(body["account"])

    @app.get("/shaped/account", response_model=AccountResponse)
    async def account_shaped() -> Response:
        return json_shaped(account_fields(body["account"]))

    return app


async def _same(app: FastAPI, name: str) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        model = await client.get(f"/model/{name}")
        shaped = await client.get(f"/shaped/{name}")
    assert model.status_code == shaped.status_code == 200
    assert shaped.content == model.content
    assert shaped.headers["content-type"] == model.headers["content-type"]
    assert shaped.headers["content-length"] == model.headers["content-length"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(transactions(), max_size=5), st.none() | TEXT, accounts())
async def test_shaped_json_is_the_models_json(
    page: list[Transaction], cursor: str | None, account: Account
) -> None:
    app = _twin_routes({"transactions": page, "cursor": cursor, "account": account})
    await _same(app, "transactions")
    await _same(app, "account")


def test_the_fields_are_the_models_in_its_order() -> None:
    transaction = Transaction(
        account_id=new_id(),
        provider_transaction_id="t",
        amount=Decimal("1"),
        currency="USD",
        posted_on=date(2024, 1, 2),
        description="d",
    )
    account = Account(
        user_id=new_id(),
        connection_id=new_id(),
        provider_account_id="12345678",
        name="n",
        account_type=AccountType.CHECKING,
        currency="USD",
    )
    assert list(transaction_fields(transaction)) == list(TransactionResponse.model_fields)
    assert list(account_fields(account)) == list(AccountResponse.model_fields)
