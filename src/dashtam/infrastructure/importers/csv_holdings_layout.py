"""The shape of a positions (holdings) export, and what its type and symbol cells mean."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dashtam.domain.investments.entities import HeldIn, SecurityKind
from dashtam.infrastructure.importers.csv_layout import column_key


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldingsLayout:
    """Which header names hold which field of a position; ``price`` or ``value`` is required."""

    symbol: str
    quantity: str
    description: str | None = None
    price: str | None = None
    value: str | None = None  # the market value
    cost_basis: str | None = None  # the position's total cost, not per share
    account: str | None = None  # the account number: one account per distinct value
    account_name: str | None = None
    currency_column: str | None = None
    # The security's type ("Equity", "ETF", "Cash and Money Market").
    kind: str | None = None
    # Fidelity's "Type" is not the security's type but the sub-account (Cash, Margin, Short).
    held_in: str | None = None
    currency: str = "USD"
    delimiter: str | None = None
    decimal_separator: str = "."
    # Vanguard follows its positions with a blank line and a transactions section.
    ends_at_blank_line: bool = False
    # Fidelity marks its core money-market position ("SPAXX**") with this after the symbol.
    cash_symbol_suffix: str | None = None
    # Fidelity writes option symbols with a leading "-" (" -AAPL261218C200").
    option_symbol_prefix: str | None = None

    def required_columns(self) -> tuple[str, ...]:
        """Every column the layout reads: a header row must name them all."""
        names = (
            self.account,
            self.account_name,
            self.symbol,
            self.description,
            self.quantity,
            self.price,
            self.value,
            self.cost_basis,
            self.currency_column,
            self.kind,
            self.held_in,
        )
        return tuple(dict.fromkeys(name for name in names if name))


@dataclass(frozen=True, slots=True)
class HoldingsPreset:
    """A brokerage's positions layouts (today's first); ``detect`` builds one from a header."""

    variants: tuple[HoldingsLayout, ...]
    detect: Callable[[Sequence[str]], HoldingsLayout | None] | None = None


# The account's cash, written in a type or symbol cell; matched whole, ignoring case.
CASH_TYPES = frozenset(
    {
        "cash",
        "cash and money market",
        "cash & money market",
        "cash & cash investments",
        "cash and cash investments",
        "money market",
        "money market fund",
        "money market funds",
        "cash equivalent",
        "cash equivalents",
        "sweep",
        "core",
    }
)
# Symbols that stand for the cash line when the row has no quantity ("CASH" is also a ticker).
CASH_SYMBOLS = frozenset(
    {"cash & cash investments", "cash and cash investments", "cash", "core", "cash balance"}
)
# Fidelity's row for trades and transfers not yet settled: part of the account's value.
PENDING_SYMBOLS = frozenset({"pending activity"})
# How the total rows of positions exports begin ("Account Total", "Positions Total").
SUMMARY_WORDS = ("account total", "total", "totals", "grand total", "subtotal", "positions total")

_KINDS: dict[SecurityKind, tuple[str, ...]] = {
    SecurityKind.STOCK: (
        "equity",
        "equities",
        "stock",
        "stocks",
        "common stock",
        "preferred stock",
        "adr",
    ),
    SecurityKind.ETF: (
        "etf",
        "etfs",
        "etfs & closed end funds",
        "etfs and closed end funds",
        "exchange traded fund",
        "exchange-traded fund",
        "closed end fund",
    ),
    SecurityKind.MUTUAL_FUND: ("mutual fund", "mutual funds", "fund", "funds"),
    SecurityKind.DEBT: (
        "bond",
        "bonds",
        "fixed income",
        "debt",
        "treasury",
        "treasuries",
        "cd",
        "cds",
        "corporate bond",
        "municipal bond",
    ),
    SecurityKind.OPTION: ("option", "options", "call", "put"),
}
_KIND_OF = {name: kind for kind, names in _KINDS.items() for name in names}
_HELD_IN = {"cash": HeldIn.CASH, "margin": HeldIn.MARGIN, "short": HeldIn.SHORT}


def security_kind(text: str) -> SecurityKind:
    """The kind a type cell names; ``other`` for what no export we know writes."""
    return _KIND_OF.get(column_key(text), SecurityKind.OTHER)


def held_in(text: str) -> HeldIn:
    key = column_key(text)
    return _HELD_IN.get(key, HeldIn.OTHER) if key else HeldIn.CASH
