"""Port: a live source (a SimpleFIN Bridge today) that is claimed once and then fetched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol
from urllib.parse import urlsplit

from dashtam.core.errors import Error
from dashtam.core.result import Result

# The bridge answers at most 90 days per request; longer histories are fetched in windows.
MAX_FETCH_WINDOW = timedelta(days=90)


class AccessUrl:
    """A URL that embeds credentials; ``repr`` and ``str`` never show them.

    The full text is read only through :meth:`reveal`, so an f-string, a log field, an
    exception argument or a dataclass ``repr`` that holds one shows ``https://***@host/...``.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    @property
    def masked(self) -> str:
        parts = urlsplit(self._value)
        host = parts.hostname or "?"
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        return f"{parts.scheme}://***@{host}/..."

    def __repr__(self) -> str:
        return f"AccessUrl({self.masked!r})"

    def __str__(self) -> str:
        return self.masked

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AccessUrl) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __copy__(self) -> AccessUrl:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> AccessUrl:
        return self

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling would write the secret in clear wherever the pickle goes (caches, queues).
        raise TypeError("AccessUrl is not picklable; store it encrypted instead")


@dataclass(frozen=True, slots=True)
class AccessGrant:
    """What a claimed setup token yields: the one credential for later fetches."""

    access_url: AccessUrl


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceInstitution:
    """The institution an account belongs to, as the source names it."""

    name: str | None = None
    domain: str | None = None
    url: str | None = None
    connection_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceTransaction:
    id: str
    amount: Decimal
    description: str
    # None while pending: the protocol allows ``posted: 0`` for a pending transaction.
    posted: datetime | None
    transacted_at: datetime | None = None
    pending: bool = False
    payee: str | None = None
    memo: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceHolding:
    id: str
    symbol: str | None = None
    description: str | None = None
    currency: str | None = None
    shares: Decimal | None = None
    market_value: Decimal | None = None
    # As sent: some institutions report a per-share figure here, others the position's total.
    cost_basis: Decimal | None = None
    purchase_price: Decimal | None = None
    created: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceAccount:
    id: str
    name: str
    # An ISO 4217 code, or a URL naming a custom currency (points, miles).
    currency: str
    balance: Decimal
    balance_date: datetime
    institution: SourceInstitution
    available_balance: Decimal | None = None
    transactions: tuple[SourceTransaction, ...] = ()
    holdings: tuple[SourceHolding, ...] = ()

    @property
    def has_custom_currency(self) -> bool:
        return "://" in self.currency


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceMessage:
    """A message the source asks to show the user (reauthenticate, an account not updated)."""

    message: str
    code: str | None = None
    connection_id: str | None = None
    account_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceSnapshot:
    """One answer of the source: its accounts in the window, and what it says went wrong."""

    accounts: tuple[SourceAccount, ...]
    messages: tuple[SourceMessage, ...] = ()

    @property
    def needs_attention(self) -> bool:
        return bool(self.messages)


class LiveSource(Protocol):
    """A source that Dashtam reads by itself: claimed once, then fetched by windows."""

    async def claim(self, setup_token: str) -> Result[AccessGrant, Error]: ...

    async def fetch(
        self,
        access: AccessGrant,
        *,
        start: datetime,
        end: datetime,
        pending: bool = True,
    ) -> Result[SourceSnapshot, Error]: ...
