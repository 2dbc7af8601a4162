"""Column layouts of common bank CSV exports, and the keys of a custom mapping.

Each preset lists the header rows its bank has written (today's first); the file's header picks
one. docs/importing-csv-presets.md describes every preset for users.
"""

from __future__ import annotations

from dataclasses import replace

from dashtam.domain.accounts.entities import AccountType
from dashtam.infrastructure.importers.csv_generic import detect
from dashtam.infrastructure.importers.csv_layout import (
    DROPPED_VALUES,
    CsvLayout,
    CsvPreset,
    DateOrder,
)

__all__ = ["MAPPING_KEYS", "PRESETS", "CsvLayout", "CsvPreset"]

_US = DateOrder.MONTH_FIRST

_N26 = (
    # Today's English export.
    CsvLayout(
        date="Booking Date",
        description="Partner Name",
        description_fallbacks=("Payment Reference", "Type"),
        payee="Partner Name",
        memo="Payment Reference",
        amount="Amount (EUR)",
        currency="EUR",
    ),
    # Today's German export.
    CsvLayout(
        date="Buchungsdatum",
        description="Name des Zahlungsbeteiligten",
        description_fallbacks=("Verwendungszweck", "Buchungstext"),
        payee="Name des Zahlungsbeteiligten",
        memo="Verwendungszweck",
        amount="Betrag (EUR)",
        currency="EUR",
        day_first=True,
    ),
    # The English export until 2023.
    CsvLayout(
        date="Date",
        description="Payee",
        description_fallbacks=("Payment reference", "Transaction type"),
        payee="Payee",
        memo="Payment reference",
        amount="Amount (EUR)",
        currency="EUR",
    ),
    # The German export until 2023.
    CsvLayout(
        date="Datum",
        description="Empfänger",
        description_fallbacks=("Verwendungszweck", "Transaktionstyp"),
        payee="Empfänger",
        memo="Verwendungszweck",
        amount="Betrag (EUR)",
        currency="EUR",
        day_first=True,
    ),
)

_ING_NL = CsvLayout(
    date="Datum",
    description="Naam / Omschrijving",
    description_fallbacks=("Mededelingen", "Mutatiesoort"),
    memo="Mededelingen",
    amount="Bedrag (EUR)",
    direction="Af Bij",
    decimal_separator=",",
    currency="EUR",
    day_first=True,
)

_AMEX = CsvLayout(
    date="Date",
    description="Description",
    amount="Amount",
    decimal_separator=".",
    account_type=AccountType.CREDIT_CARD,
    negate=True,
)

PRESETS: dict[str, CsvPreset] = {
    "chase-checking": CsvPreset(
        (
            CsvLayout(
                date="Posting Date",
                description="Description",
                amount="Amount",
                balance="Balance",
                date_order=_US,
                decimal_separator=".",
                delimiter=",",
            ),
        )
    ),
    "chase-credit": CsvPreset(
        (
            CsvLayout(
                date="Post Date",
                description="Description",
                amount="Amount",
                memo="Memo",
                date_order=_US,
                decimal_separator=".",
                delimiter=",",
                account_type=AccountType.CREDIT_CARD,
            ),
        )
    ),
    "bank-of-america": CsvPreset(
        (
            CsvLayout(
                date="Date",
                description="Description",
                amount="Amount",
                balance="Running Bal.",
                date_order=_US,
                decimal_separator=".",
                delimiter=",",
            ),
        )
    ),
    "capital-one": CsvPreset(
        (
            CsvLayout(
                date="Posted Date",
                description="Description",
                debit="Debit",
                credit="Credit",
                decimal_separator=".",
                delimiter=",",
                account_type=AccountType.CREDIT_CARD,
            ),
        )
    ),
    "wells-fargo": CsvPreset(
        (
            CsvLayout(
                columns=("Date", "Amount", "Star", "Check Number", "Description"),
                date="Date",
                description="Description",
                amount="Amount",
                date_order=_US,
                decimal_separator=".",
                delimiter=",",
            ),
        )
    ),
    "amex": CsvPreset(
        (
            # The extended export (a Card Member per row and Amex's own reference).
            CsvLayout(
                date="Date",
                description="Description",
                amount="Amount",
                transaction_id="Reference",
                memo="Extended Details",
                decimal_separator=".",
                account_type=AccountType.CREDIT_CARD,
                negate=True,
            ),
            _AMEX,
        )
    ),
    "revolut": CsvPreset(
        (
            CsvLayout(
                # The started date never changes when a pending payment completes, so the
                # derived id stays the same (the completed date is empty until then).
                date="Started Date",
                description="Description",
                amount="Amount",
                fee="Fee",
                currency_column="Currency",
                status="State",
                balance="Balance",
                decimal_separator=".",
                delimiter=",",
                currency="EUR",
                pending_values=frozenset({"pending"}),
                dropped_values=DROPPED_VALUES,
            ),
        )
    ),
    "monzo": CsvPreset(
        (
            CsvLayout(
                transaction_id="Transaction ID",
                date="Date",
                description="Name",
                description_fallbacks=("Description", "Type"),
                payee="Name",
                memo="Notes and #tags",
                amount="Amount",
                currency_column="Currency",
                date_order=DateOrder.DAY_FIRST,
                decimal_separator=".",
                delimiter=",",
                currency="GBP",
            ),
        )
    ),
    "n26": CsvPreset(_N26),
    "ing": CsvPreset(
        (
            # ING Netherlands: newer exports add the balance after each row.
            replace(_ING_NL, balance="Saldo na mutatie"),
            _ING_NL,
            # ING Germany, after a block of "key;value" lines (IBAN, Kontoname, Saldo, ...).
            # "Währung" appears twice: the second, the amount's own, is the one read.
            CsvLayout(
                date="Buchung",
                description="Auftraggeber/Empfänger",
                description_fallbacks=("Verwendungszweck", "Buchungstext"),
                payee="Auftraggeber/Empfänger",
                memo="Verwendungszweck",
                amount="Betrag",
                balance="Saldo",
                currency_column="Währung",
                date_order=DateOrder.DAY_FIRST,
                decimal_separator=",",
                delimiter=";",
                currency="EUR",
            ),
        )
    ),
    "generic": CsvPreset((), detect=detect),
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
