"""The ``generic`` preset: columns recognised by their usual names in five languages."""

from __future__ import annotations

import re
from collections.abc import Sequence

from dashtam.core.result import Success
from dashtam.domain.money import parse_currency
from dashtam.infrastructure.importers.csv_layout import CsvLayout, column_key

# Names in order of preference: a booking date beats a value date, for instance. English first;
# a header matched only through the other languages' names reads ambiguous dates day first.
_ENGLISH = {
    "date": (
        "date",
        "posting date",
        "posted date",
        "booking date",
        "transaction date",
        "trans. date",
        "value date",
    ),
    "description": (
        "description",
        "transaction description",
        "details",
        "narrative",
        "name",
        "payee",
        "merchant",
    ),
    "amount": ("amount", "transaction amount", "value"),
    "debit": ("debit", "debit amount", "withdrawal", "withdrawals", "money out", "paid out"),
    "credit": ("credit", "credit amount", "deposit", "deposits", "money in", "paid in"),
    "payee": ("payee", "counterparty", "beneficiary", "partner name", "merchant", "name"),
    "memo": ("memo", "reference", "payment reference", "notes", "note"),
    "transaction_id": ("transaction id", "id", "transaction reference", "fitid"),
    "status": ("status", "state"),
    "balance": ("balance", "running balance", "running bal."),
    "currency_column": ("currency",),
    "direction": ("debit/credit", "dr/cr", "cr/dr"),
}
_OTHER = {
    "date": (
        "buchungstag",
        "buchungsdatum",
        "buchung",
        "datum",
        "date de l'opération",
        "date opération",
        "date d'opération",
        "date de comptabilisation",
        "fecha",
        "fecha operación",
        "fecha de operación",
        "boekdatum",
        "transactiedatum",
        "wertstellung",
        "valutadatum",
        "date de valeur",
        "fecha valor",
    ),
    # The counterparty's name labels a German or Dutch row best; "Buchungstext" is only its
    # kind ("Lastschrift"), so it is not a description.
    "description": (
        "beschreibung",
        "auftraggeber/empfänger",
        "empfänger",
        "name des zahlungsbeteiligten",
        "zahlungsempfänger",
        "beguenstigter/zahlungspflichtiger",
        "libellé de l'opération",
        "libellé",
        "libelle",
        "naam / omschrijving",
        "omschrijving",
        "concepto",
        "descripción",
        "descripcion",
        "verwendungszweck",
    ),
    "amount": ("betrag", "umsatz", "montant", "importe", "bedrag"),
    "debit": ("soll", "débit", "debe", "cargo", "afschrijving"),
    "credit": ("haben", "crédit", "haber", "abono", "bijschrijving"),
    "payee": (
        "empfänger",
        "auftraggeber/empfänger",
        "name des zahlungsbeteiligten",
        "zahlungsempfänger",
        "beguenstigter/zahlungspflichtiger",
        "bénéficiaire",
        "beneficiario",
        "tegenpartij",
        "naam tegenpartij",
    ),
    "memo": ("verwendungszweck", "référence", "referencia", "mededelingen", "notiz"),
    "transaction_id": (
        "transaktions-id",
        "transaktionsnummer",
        "identifiant",
        "transactie-id",
        "id de transacción",
    ),
    # Sparkasse's "Info" says "Umsatz gebucht" or "Umsatz vorgemerkt".
    "status": ("buchungsstatus", "statut", "estado", "info"),
    "balance": ("saldo", "kontostand", "solde", "saldo na mutatie"),
    "currency_column": ("währung", "waehrung", "devise", "moneda", "munteenheid"),
    "direction": ("af bij", "af/bij", "soll/haben", "s/h", "sens"),
}
# "Amount (EUR)", "Betrag (EUR)": the currency is in the name.
_WITH_CURRENCY = re.compile(r"(.+?)\s*\(([a-z]{3})\)")


def detect(names: Sequence[str]) -> CsvLayout | None:
    """A layout for this header row, or None when it lacks a date, an amount or a text."""
    keys = [column_key(name) for name in names]
    by_key = dict(zip(keys, names, strict=True))
    found: dict[str, str] = {}
    english = True
    currency: str | None = None
    bare = {_WITH_CURRENCY.sub(r"\1", key): key for key in reversed(keys)}
    for role in _ENGLISH:
        # The payee may be the description's column too ("Payee" in a Date,Payee,Amount file).
        taken = {key for other, key in found.items() if role != "payee" or other != "description"}
        for vocabulary, is_english in ((_ENGLISH, True), (_OTHER, False)):
            name = _first(vocabulary[role], bare, taken)
            if name is not None:
                found[role] = name
                english = english and (is_english or role not in ("date", "amount"))
                break
    if "amount" in found:
        found.pop("debit", None)
        found.pop("credit", None)
        match = _WITH_CURRENCY.fullmatch(found["amount"])
        if match and isinstance(parse_currency(match[2]), Success):
            currency = match[2].upper()
    text = found.get("description") or found.get("payee") or found.get("memo")
    has_amount = "amount" in found or "debit" in found or "credit" in found
    if "date" not in found or text is None or not has_amount:
        return None
    original = {role: by_key[key] for role, key in found.items()}
    return CsvLayout(
        date=original["date"],
        description=by_key[text],
        amount=original.get("amount"),
        debit=original.get("debit"),
        credit=original.get("credit"),
        payee=original.get("payee"),
        memo=original.get("memo"),
        transaction_id=original.get("transaction_id"),
        status=original.get("status"),
        balance=original.get("balance"),
        direction=original.get("direction") if "amount" in found else None,
        currency_column=original.get("currency_column"),
        description_fallbacks=tuple(
            original[role] for role in ("payee", "memo") if role in original and found[role] != text
        ),
        day_first=not english,
        currency=currency or "USD",
    )


def _first(candidates: tuple[str, ...], bare: dict[str, str], taken: set[str]) -> str | None:
    """The header key of the first candidate present and not already given another role."""
    for candidate in candidates:
        key = bare.get(candidate)
        if key is not None and key not in taken:
            return key
    return None
