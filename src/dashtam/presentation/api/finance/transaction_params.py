"""Query parameters of the transaction routes: one set of filters for the JSON list and the CSV.

Both routes depend on ``transaction_filters``, so a filter added to one is added to the other,
validated by the same rules and refused with the same 422 problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query

from dashtam.domain.money import AMOUNT_SCALE, MAX_AMOUNT
from dashtam.domain.transactions.repository import (
    TransactionCursor,
    TransactionQuery,
    TransferFilter,
)
from dashtam.presentation.api.cursors import decode_cursor_bytes, encode_cursor_bytes
from dashtam.presentation.api.validators import (
    NO_CONTROL_CHARACTERS_SCHEMA,
    IsoDate,
    NoControlCharacters,
)

# A signed decimal string below MAX_ABS_AMOUNT with at most AMOUNT_SCALE places: no stored
# amount lies outside it, and a bound beyond it would overflow SQLite's scaled integer. A
# pattern (not a Decimal with a range) so that the document states exactly what is accepted.
AMOUNT_PATTERN = rf"^[+-]?[0-9]{{1,{len(str(int(MAX_AMOUNT)))}}}(\.[0-9]{{1,{AMOUNT_SCALE}}})?$"
AmountFilter = Annotated[
    str | None,
    Query(pattern=AMOUNT_PATTERN, description="A decimal amount, e.g. -12.5", examples=["-12.5"]),
]
TextFilter = Annotated[
    str | None,
    NoControlCharacters,
    Query(
        max_length=100,
        description="Text in the description, payee or memo",
        json_schema_extra=NO_CONTROL_CHARACTERS_SCHEMA,
    ),
]


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionFilters:
    account: UUID | None = None
    posted_from: date | None = None
    posted_to: date | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    text: str | None = None
    transfers: TransferFilter = TransferFilter.INCLUDE

    def query(self, user_id: UUID) -> TransactionQuery:
        return TransactionQuery(
            user_id=user_id,
            account_id=self.account,
            posted_from=self.posted_from,
            posted_to=self.posted_to,
            min_amount=self.min_amount,
            max_amount=self.max_amount,
            text=self.text,
            transfers=self.transfers,
        )


async def transaction_filters(
    account: Annotated[UUID | None, Query(description="Only this account's")] = None,
    from_: Annotated[
        date | None, IsoDate, Query(alias="from", description="Posted on or after")
    ] = None,
    to: Annotated[date | None, IsoDate, Query(description="Posted on or before")] = None,
    min_amount: AmountFilter = None,
    max_amount: AmountFilter = None,
    q: TextFilter = None,
    transfers: Annotated[
        TransferFilter,
        Query(description="Transfers between my own accounts: include, exclude or only"),
    ] = TransferFilter.INCLUDE,
) -> TransactionFilters:
    """The filters of ``GET /transactions`` and ``GET /transactions.csv``."""
    return TransactionFilters(
        account=account,
        posted_from=from_,
        posted_to=to,
        # ``is not None``: "0" is a bound like any other.
        min_amount=Decimal(min_amount) if min_amount is not None else None,
        max_amount=Decimal(max_amount) if max_amount is not None else None,
        text=q.strip() or None if q is not None else None,
        transfers=transfers,
    )


TransactionFiltersDep = Annotated[TransactionFilters, Depends(transaction_filters)]


def encode_cursor(cursor: TransactionCursor) -> str:
    return encode_cursor_bytes(f"{cursor.posted_on.isoformat()}|{cursor.id}".encode())


def decode_cursor(text: str) -> TransactionCursor | None:
    raw = decode_cursor_bytes(text)
    try:
        day, _, ident = (raw or b"").decode().partition("|")
        return TransactionCursor(date.fromisoformat(day), UUID(ident))
    except (UnicodeDecodeError, ValueError):
        return None
