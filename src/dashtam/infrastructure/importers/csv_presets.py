"""Column layouts of common bank CSV exports, and the shape of a custom mapping."""

from __future__ import annotations

from dataclasses import dataclass, field

from dashtam.domain.accounts.entities import AccountType


@dataclass(frozen=True, slots=True, kw_only=True)
class CsvLayout:
    """Which header names hold which field. ``amount`` or ``debit``/``credit`` is required."""

    date: str
    description: str
    amount: str | None = None
    debit: str | None = None
    credit: str | None = None
    payee: str | None = None
    memo: str | None = None
    transaction_id: str | None = None
    status: str | None = None
    balance: str | None = None
    date_format: str | None = None  # strptime format; None = recognise ISO, US or EU dates
    decimal_separator: str | None = None  # None = infer per cell
    delimiter: str | None = None  # None = sniff
    currency: str = "USD"
    account_type: AccountType = AccountType.CHECKING
    # Cards that export purchases as positive numbers: flip them so spending is negative.
    negate: bool = False
    pending_values: frozenset[str] = field(default_factory=lambda: frozenset({"pending"}))


PRESETS: dict[str, CsvLayout] = {
    # Chase checking/savings: Details,Posting Date,Description,Amount,Type,Balance,Check or Slip #
    "chase-checking": CsvLayout(
        date="Posting Date",
        description="Description",
        amount="Amount",
        balance="Balance",
        date_format="%m/%d/%Y",
        decimal_separator=".",
        delimiter=",",
    ),
    # Chase credit cards: Transaction Date,Post Date,Description,Category,Type,Amount,Memo
    "chase-credit": CsvLayout(
        date="Post Date",
        description="Description",
        amount="Amount",
        memo="Memo",
        date_format="%m/%d/%Y",
        decimal_separator=".",
        delimiter=",",
        account_type=AccountType.CREDIT_CARD,
    ),
    # Bank of America checking: a summary block, then Date,Description,Amount,Running Bal.
    "bank-of-america": CsvLayout(
        date="Date",
        description="Description",
        amount="Amount",
        balance="Running Bal.",
        date_format="%m/%d/%Y",
        decimal_separator=".",
        delimiter=",",
    ),
    # N26 (EUR): "Date","Payee","Account number","Transaction type","Payment reference",
    # "Amount (EUR)",...
    "n26": CsvLayout(
        date="Date",
        description="Payee",
        payee="Payee",
        memo="Payment reference",
        amount="Amount (EUR)",
        date_format="%Y-%m-%d",
        decimal_separator=".",
        delimiter=",",
        currency="EUR",
    ),
}

MAPPING_KEYS = frozenset(
    {
        "date",
        "description",
        "amount",
        "debit",
        "credit",
        "payee",
        "memo",
        "transaction_id",
        "status",
        "balance",
        "date_format",
        "decimal_separator",
        "delimiter",
        "currency",
        "account_type",
        "negate",
    }
)
