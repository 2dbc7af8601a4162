"""Positions exports' numbers, dates and symbols, and the plain errors a broken row gets."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure
from dashtam.domain.investments.entities import SecurityId
from dashtam.infrastructure.importers.csv_holdings import HoldingsCsvParser
from dashtam.infrastructure.importers.csv_holdings_presets import HOLDINGS_PRESETS
from dashtam.infrastructure.importers.csv_holdings_values import (
    read_number,
    security_id,
    stated,
)
from dashtam.infrastructure.importers.safety import FileRejectedError
from tests.unit.importers.support import LIMITS, fixture

FIDELITY_HEADER = (
    "Account Number,Account Name,Symbol,Description,Quantity,Last Price,Last Price Change,"
    "Current Value,Today's Gain/Loss Dollar,Today's Gain/Loss Percent,Total Gain/Loss Dollar,"
    "Total Gain/Loss Percent,Percent Of Account,Cost Basis Total,Average Cost Basis,Type\n"
)


def fidelity_row(quantity: str = "10", price: str = "$5.00", value: str = "$50.00") -> str:
    return (
        f"X1,Brokerage,ABC,ABC CORP,{quantity},{price},+$0.10,{value},"
        "+$1.00,+2%,+$5.00,+10%,100%,$45.00,$4.50,Cash,\n"
    )


def refused(data: bytes, preset: str, code: str) -> ValidationError:
    [result] = list(
        HoldingsCsvParser(HOLDINGS_PRESETS[preset]).stream(data, limits=LIMITS, batch_size=10)
    )
    assert isinstance(result, Failure), result
    assert result.error.code == code, result.error
    return result.error


@pytest.mark.parametrize(
    ("text", "places", "expected"),
    [
        ("$1,234.56", 4, Decimal("1234.56")),
        ("(1,234.56)", 4, Decimal("-1234.56")),
        ("-$3", 4, Decimal("-3")),
        ("$-150.00", 4, Decimal("-150.00")),
        ("+$1.20", 4, Decimal("1.20")),
        ("12.50-", 4, Decimal("-12.50")),
        ("0.0000000001", 10, Decimal("0.0000000001")),
        ("1,234,567.1234567891", 10, Decimal("1234567.1234567891")),
        (".5", 10, Decimal("0.5")),
        ("--", 4, None),
        ("n/a", 4, None),
        ("N/A", 4, None),
        ("", 4, None),
        (" - ", 4, None),
    ],
)
def test_numbers_as_brokerages_write_them(text: str, places: int, expected: Decimal | None) -> None:
    assert read_number(text, places=places, decimal_separator=".", where="here") == expected


def test_decimal_comma_numbers() -> None:
    value = read_number("1.234,5678", places=10, decimal_separator=",", where="here")
    assert value == Decimal("1234.5678")


@pytest.mark.parametrize(
    ("text", "places", "message"),
    [
        ("lots", 10, '"lots" is not a number'),
        ("1,23", 4, '"1,23" is not a number'),  # a comma that groups no thousands
        ("1E5", 10, '"1E5" is not a number'),
        ("ABC", 10, '"ABC" is not a number'),  # not taken for a currency code and dropped
        ("--5", 4, '"--5" is not a number'),
        ("0.00000000001", 10, '"0.00000000001" has more than 10 decimal places'),
        ("$12.34567", 4, '"$12.34567" has more than 4 decimal places'),
        ("100000000000000", 4, '"100000000000000" is too large'),
    ],
)
def test_numbers_that_are_refused(text: str, places: int, message: str) -> None:
    with pytest.raises(FileRejectedError) as caught:
        read_number(text, places=places, decimal_separator=".", where='line 3 column "Qty"')
    assert caught.value.error.message == f'line 3 column "Qty": {message}'
    assert caught.value.error.code == "invalid_amount"


@pytest.mark.parametrize(
    ("line", "as_of"),
    [
        ('"Date downloaded 11/30/2026 10:15 AM ET"', datetime(2026, 11, 30, 15, 15, tzinfo=UTC)),
        # Daylight time: Eastern is four hours behind UTC in July.
        ("Date downloaded Jul-01-2026 10:15 a.m ET", datetime(2026, 7, 1, 14, 15, tzinfo=UTC)),
        ("as of 04:00 PM ET, 11/29/2026", datetime(2026, 11, 29, 21, 0, tzinfo=UTC)),
        # The first days of daylight time (second Sunday of March 2026 is the 8th).
        ("as of 09:00 AM ET, 03/08/2026", datetime(2026, 3, 8, 13, 0, tzinfo=UTC)),
        ("as of 09:00 AM ET, 03/07/2026", datetime(2026, 3, 7, 14, 0, tzinfo=UTC)),
        # No zone: only the day is known.
        ("Positions as of 2026-11-29 16:00", datetime(2026, 11, 29, tzinfo=UTC)),
        ("Date downloaded 13/45/2026", None),
        ("Brokerage services are provided by a member of NYSE, SIPC", None),
    ],
)
def test_the_date_a_line_states(line: str, as_of: datetime | None) -> None:
    assert stated(line).as_of == as_of


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        ("aapl", SecurityId("AAPL", "TICKER")),
        (" BRK.B ", SecurityId("BRK.B", "TICKER")),
        ("037833100", SecurityId("037833100", "CUSIP")),
        # A wrong check digit is not a CUSIP.
        ("037833101", SecurityId("037833101", "TICKER")),
        ("AAPL  12/18/2026 250.00 C", SecurityId("AAPL 12/18/2026 250.00 C", "TICKER")),
    ],
)
def test_symbols_become_security_ids(symbol: str, expected: SecurityId) -> None:
    assert security_id(symbol, where="line 2") == expected


# --- whole files that are refused ----------------------------------------------------------


def test_a_broken_quantity_names_its_line_and_column() -> None:
    data = (FIDELITY_HEADER + fidelity_row() + fidelity_row(quantity="lots")).encode()
    error = refused(data, "fidelity-positions", "invalid_amount")
    assert error.message == 'line 3 column "Quantity": "lots" is not a number'
    assert error.details == {"location": 'line 3 column "Quantity"'}


def test_a_price_with_too_many_places_names_its_line_and_column() -> None:
    data = (FIDELITY_HEADER + fidelity_row(price="$5.00000000001")).encode()
    error = refused(data, "fidelity-positions", "invalid_amount")
    assert error.message.startswith('line 2 column "Last Price": ')


def test_a_position_without_quantity_or_symbol_is_refused() -> None:
    no_quantity = (FIDELITY_HEADER + fidelity_row(quantity="")).encode()
    error = refused(no_quantity, "fidelity-positions", "invalid_amount")
    assert error.message == 'line 2: column "Quantity" is empty'
    no_symbol = (FIDELITY_HEADER + fidelity_row().replace(",ABC,", ",,")).encode()
    error = refused(no_symbol, "fidelity-positions", "invalid_file")
    assert error.message == 'line 2: column "Symbol" is empty'


def test_a_position_without_price_or_value_is_refused() -> None:
    data = (FIDELITY_HEADER + fidelity_row(price="--", value="--")).encode()
    error = refused(data, "fidelity-positions", "invalid_amount")
    assert error.message == 'line 2: the position has no "Last Price" or "Current Value"'


def test_a_missing_price_or_value_follows_from_the_other() -> None:
    data = (FIDELITY_HEADER + fidelity_row(quantity="3", price="--", value="$10.00")).encode()
    parser = HoldingsCsvParser(HOLDINGS_PRESETS["fidelity-positions"])
    [part] = [r.unwrap() for r in parser.stream(data, limits=LIMITS, batch_size=1)]
    assert part.investment is not None
    [position] = part.investment.positions
    assert (position.unit_price, position.market_value) == (Decimal("3.3333333333"), Decimal("10"))


def test_a_row_cut_short_says_so() -> None:
    data = (FIDELITY_HEADER + "X1,Brokerage,ABC,ABC CORP\n").encode()
    error = refused(data, "fidelity-positions", "invalid_file")
    assert error.message == "line 2: the row has 4 of 16 columns"


def test_a_file_with_no_positions_header_or_no_positions() -> None:
    error = refused(fixture("chase_checking.csv"), "fidelity-positions", "invalid_csv")
    assert '"Account Number", "Account Name", "Symbol"' in error.message
    refused(FIDELITY_HEADER.encode(), "fidelity-positions", "empty_file")
    error = refused(b"Date,Description,Amount\n", "generic-positions", "invalid_csv")
    assert "a symbol, a quantity and a price or market value" in error.message


def test_too_many_rows_are_refused() -> None:
    data = (FIDELITY_HEADER + fidelity_row() * 3).encode()
    parser = HoldingsCsvParser(HOLDINGS_PRESETS["fidelity-positions"])
    [result] = list(parser.stream(data, limits=type(LIMITS)(max_transactions=2), batch_size=1))
    assert isinstance(result, Failure)
    assert result.error.code == "too_many_rows"


def test_a_control_character_in_the_account_number_is_refused() -> None:
    data = (FIDELITY_HEADER + fidelity_row().replace("X1,", "X\x001,")).encode()
    error = refused(data, "fidelity-positions", "invalid_file")
    assert (
        error.message == 'line 2 column "Account Number": the account contains a control character'
    )
