"""Choosing the positions parser: its presets, a mapping of positions fields, and refusals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from dashtam.core.result import Failure, Success
from dashtam.domain.imports.statement import CsvOptions, StatementPart
from dashtam.domain.investments.entities import SecurityKind
from dashtam.infrastructure.importers.csv_file import CsvParser, layout_from
from dashtam.infrastructure.importers.csv_holdings import HoldingsCsvParser
from dashtam.infrastructure.importers.factory import StatementParsers
from tests.unit.importers.support import LIMITS, fixture

EUROPEAN = (
    "Depot;Wertpapier;Kürzel;Stück;Kurs;Kurswert;Einstand;Währung;Gattung\n"
    "DE-1;iShares Core MSCI World;EUNL;12,5;98,765;1.234,56;1.100,00;EUR;ETF\n"
    "DE-1;Siemens AG;SIE;3;180,10;540,30;;EUR;Aktie\n"
    "DE-1;Tagesgeld;CASH;;;2.000,00;;EUR;Money Market\n"
)
EUROPEAN_MAPPING = {
    "account": "Depot",
    "description": "Wertpapier",
    "symbol": "Kürzel",
    "quantity": "Stück",
    "price": "Kurs",
    "value": "Kurswert",
    "cost_basis": "Einstand",
    "currency": "Währung",
    "type": "Gattung",
    "decimal_separator": ",",
}


def parser(options: CsvOptions, data: bytes | None = None) -> object:
    result = StatementParsers().parser_for("csv-file", options, data=data)
    assert isinstance(result, Success), result
    return result.value


def only_part(chosen: object, data: bytes) -> StatementPart:
    assert isinstance(chosen, HoldingsCsvParser)
    [result] = list(chosen.stream(data, limits=LIMITS, batch_size=100))
    return result.unwrap()


@pytest.mark.parametrize(
    ("preset", "name"),
    [
        ("fidelity-positions", "holdings_fidelity.csv"),
        ("schwab-positions", "holdings_schwab.csv"),
        ("vanguard-positions", "holdings_vanguard.csv"),
        ("generic-positions", "holdings_schwab.csv"),
    ],
)
def test_a_positions_preset_gets_the_positions_parser(preset: str, name: str) -> None:
    assert isinstance(parser(CsvOptions(preset=preset), fixture(name)), HoldingsCsvParser)


def test_bank_presets_and_mappings_keep_the_bank_parser() -> None:
    assert isinstance(parser(CsvOptions(preset="chase-checking")), CsvParser)
    mapping = {"date": "Date", "description": "Description", "amount": "Amount"}
    assert isinstance(parser(CsvOptions(mapping=mapping)), CsvParser)


def test_a_mapping_of_positions_fields_reads_a_european_file() -> None:
    chosen = parser(CsvOptions(mapping=EUROPEAN_MAPPING, account="ignored"))
    part = only_part(chosen, EUROPEAN.encode())
    assert (part.account.provider_account_id, part.account.currency) == ("DE-1", "EUR")
    assert part.investment is not None
    assert part.investment.balance is not None
    rows = [
        (p.security_id.unique_id, p.units, p.unit_price, p.market_value, p.cost_basis)
        for p in part.investment.positions
    ]
    assert rows == [
        ("EUNL", Decimal("12.5"), Decimal("98.765"), Decimal("1234.56"), Decimal("1100.00")),
        ("SIE", Decimal("3"), Decimal("180.10"), Decimal("540.30"), None),
    ]
    assert part.investment.balance.available_cash == Decimal("2000.00")
    assert part.account.balance == Decimal("3774.86")
    # "Aktie" is no type this reader knows: the security's kind stays "other".
    assert [s.kind for s in part.securities] == [SecurityKind.ETF, SecurityKind.OTHER]


def test_the_account_option_names_a_file_without_an_account_column() -> None:
    mapping = {"symbol": "Symbol", "quantity": "Shares", "value": "Value"}
    data = b"Symbol,Shares,Value\nVT,4,$480.00\n"
    part = only_part(parser(CsvOptions(mapping=mapping, account="ira")), data)
    assert part.account.provider_account_id == "ira"
    assert part.account.currency == "USD"
    mapping_eur = {**mapping, "account_currency": "chf"}
    assert only_part(parser(CsvOptions(mapping=mapping_eur)), data).account.currency == "CHF"


def test_one_account_in_two_currencies_is_refused_with_its_line() -> None:
    data = EUROPEAN.replace("540,30;;EUR", "540,30;;USD").encode()
    chosen = parser(CsvOptions(mapping=EUROPEAN_MAPPING))
    assert isinstance(chosen, HoldingsCsvParser)
    [result] = list(chosen.stream(data, limits=LIMITS, batch_size=100))
    assert isinstance(result, Failure)
    assert result.error.code == "invalid_currency"
    assert result.error.details == {"location": 'line 3 column "Währung"'}


@pytest.mark.parametrize(
    ("mapping", "fragment"),
    [
        ({"symbol": "S", "quantity": "Q", "value": "V", "date": "D"}, "keys: date"),
        ({"symbol": "S", "value": "V"}, "needs 'symbol' and 'quantity'"),
        ({"symbol": "S", "quantity": "Q"}, "needs 'price' or 'value'"),
        ({"symbol": "S", "quantity": "Q", "value": "V", "delimiter": ";;"}, "one character"),
        ({"symbol": "S", "quantity": "Q", "value": "V", "decimal_separator": "'"}, "'.' or ','"),
        ({"symbol": "S\x00", "quantity": "Q", "value": "V"}, "control characters"),
    ],
)
def test_bad_positions_mappings_are_refused(mapping: dict[str, Any], fragment: str) -> None:
    result = StatementParsers().parser_for("csv-file", CsvOptions(mapping=mapping))
    assert isinstance(result, Failure)
    assert result.error.code == "invalid_mapping"
    assert fragment in result.error.message


def test_an_unknown_currency_in_a_positions_mapping_is_refused() -> None:
    mapping = {"symbol": "S", "quantity": "Q", "value": "V", "account_currency": "XXY"}
    result = StatementParsers().parser_for("csv-file", CsvOptions(mapping=mapping))
    assert isinstance(result, Failure)
    assert result.error.code == "invalid_currency"


def test_an_unknown_preset_lists_the_positions_presets_too() -> None:
    result = layout_from("etrade-positions", None)
    assert isinstance(result, Failure)
    for name in ("fidelity-positions", "schwab-positions", "vanguard-positions", "chase-checking"):
        assert name in result.error.message
