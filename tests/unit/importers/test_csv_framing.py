"""Files as banks write them: encodings, line ends, preambles, footers, number and date styles."""

from __future__ import annotations

import codecs
from datetime import date
from decimal import Decimal

import pytest

from dashtam.core.errors import ValidationError
from dashtam.domain.imports.statement import ParsedStatement, StatementPart
from dashtam.domain.transactions.entities import TransactionStatus
from dashtam.infrastructure.importers.csv_file import CsvParser
from dashtam.infrastructure.importers.csv_presets import PRESETS
from tests.unit.importers.support import LIMITS, fixture, parsed, refused

Row = tuple[date, Decimal, str]


def generic(data: bytes) -> ParsedStatement:
    return parsed(CsvParser(PRESETS["generic"]).parse(data, limits=LIMITS))


def generic_error(data: bytes, code: str) -> ValidationError:
    return refused(CsvParser(PRESETS["generic"]).parse(data, limits=LIMITS), code)


def last_part(data: bytes) -> StatementPart:
    *_, last = CsvParser(PRESETS["generic"]).stream(data, limits=LIMITS, batch_size=2)
    return last.unwrap()


def rows(statement: ParsedStatement) -> list[Row]:
    return [(t.posted_on, t.amount, t.description) for t in statement.accounts[0].transactions]


SIMPLE = "Date,Description,Amount\n2026-11-02,Café Müller,-3.50\n2026-11-03,Bäckerei,-1.20\n"
SIMPLE_ROWS = [
    (date(2026, 11, 2), Decimal("-3.50"), "Café Müller"),
    (date(2026, 11, 3), Decimal("-1.20"), "Bäckerei"),
]


@pytest.mark.parametrize(
    "data",
    [
        SIMPLE.encode(),
        codecs.BOM_UTF8 + SIMPLE.encode(),
        SIMPLE.encode("cp1252"),
        SIMPLE.encode("latin-1"),
        SIMPLE.encode("utf-16"),  # with its byte-order mark, as Python writes it
        codecs.BOM_UTF16_BE + SIMPLE.encode("utf-16-be"),
        SIMPLE.replace("\n", "\r\n").encode(),
        SIMPLE.replace("\n", "\r").encode(),
    ],
    ids=["utf-8", "utf-8-bom", "cp1252", "latin-1", "utf-16-le", "utf-16-be", "crlf", "cr"],
)
def test_encodings_and_line_ends(data: bytes) -> None:
    assert rows(generic(data)) == SIMPLE_ROWS


def test_utf16_file_with_tabs_and_french_amounts() -> None:
    statement = generic(fixture("french_utf16.csv"))
    [account] = statement.accounts
    assert account.currency == "EUR"
    # Day first: a French header, though no day in the file is above 12.
    assert rows(statement) == [
        (date(2026, 11, 2), Decimal("-12.50"), "CB CARREFOUR CITY 01/11"),
        (date(2026, 11, 5), Decimal("2345.00"), "VIR SEPA SALAIRE NOVEMBRE"),
        (date(2026, 11, 7), Decimal("-84.90"), "PRLV SEPA EDF"),
    ]


def test_sparkasse_style_footer_is_skipped_and_counted() -> None:
    data = fixture("sparkasse_footer.csv")
    statement = generic(data)
    [account] = statement.accounts
    assert rows(statement) == [
        (date(2026, 11, 10), Decimal("-31.07"), "EDEKA CENTER"),
        (date(2026, 11, 11), Decimal("-29.90"), "Fitnessstudio GmbH"),
        (date(2026, 11, 12), Decimal("1024.50"), "Finanzamt Köln"),
    ]
    assert [t.status for t in account.transactions] == [
        TransactionStatus.POSTED,
        TransactionStatus.PENDING,
        TransactionStatus.POSTED,
    ]
    assert [t.memo for t in account.transactions][1] == "Beitrag 11/2026"
    assert last_part(data).skipped == {"footer lines": 3}


def test_end_marker_ends_the_file() -> None:
    data = (
        b"Date,Description,Amount\n2026-11-02,Shop,-1.00\n***END OF FILE***\n"
        b"garbage that is, not a row\n"
    )
    assert rows(generic(data)) == [(date(2026, 11, 2), Decimal("-1.00"), "Shop")]
    assert last_part(data).skipped == {"footer lines": 1}


def test_totals_between_rows_are_summary_lines() -> None:
    data = (
        b"Date,Description,Amount\n2026-10-30,A,-1.00\nTotal October,,-1.00\n"
        b"2026-11-02,B,-2.00\n,,\nTotal November,,-2.00\nClosing balance,,97.00\n"
    )
    assert [d for _, d, _ in rows(generic(data))] == [Decimal("-1.00"), Decimal("-2.00")]
    assert last_part(data).skipped == {"summary lines": 1, "footer lines": 2}


def test_a_broken_row_in_the_middle_is_still_an_error() -> None:
    data = b"Date,Description,Amount\n2026-11-02,A,-1.00\nyesterday,B,-2\n2026-11-04,C,-3\n"
    error = generic_error(data, "invalid_date")
    assert error.details["location"] == "line 3"
    assert error.message == 'line 3: "yesterday" is not a date'


@pytest.mark.parametrize(
    ("last", "code"),
    [
        (b"2026-11-03,X\n", "invalid_csv"),
        (b"13/45/2026,X,-1\n", "invalid_date"),
        (b"2026-11-03,X,lots\n", "invalid_amount"),
    ],
    ids=["cut-short", "impossible-date", "word-amount"],
)
def test_a_broken_last_row_is_an_error_not_a_footer(last: bytes, code: str) -> None:
    data = b"Date,Description,Amount\n2026-11-02,A,-1.00\n" + last
    assert generic_error(data, code).details["location"].startswith("line 3")


def test_a_repeated_header_is_skipped() -> None:
    data = b"Date,Description,Amount\n2026-11-02,A,-1\nDate,Description,Amount\n2026-11-03,B,-2\n"
    assert len(rows(generic(data))) == 2
    assert last_part(data).skipped == {"repeated header lines": 1}


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (['"1.234,56"', "-12,50 €", "0,5"], ["1234.56", "-12.50", "0.5"]),
        (['"1,234.56"', "-12.50", "$7.00"], ["1234.56", "-12.50", "7.00"]),
        (['"1 234,56"', "1\u00a0000,00", "2\u202f000,10"], ["1234.56", "1000.00", "2000.10"]),
        (["(12.50)", "12.50-", "+3.10"], ["-12.50", "-12.50", "3.10"]),
        (["\u22127,25", "EUR -1,00", "3,00 EUR"], ["-7.25", "-1.00", "3.00"]),
        # "1.234" alone could be either; the file's other amounts say the comma is decimal.
        (["1.234", "12,30", "5"], ["1234", "12.30", "5"]),
        (["1,234", "12.30", "5"], ["1234", "12.30", "5"]),
    ],
)
def test_amount_styles(cells: list[str], expected: list[str]) -> None:
    lines = [f"2026-11-0{n + 1};Row {n};{cell}" for n, cell in enumerate(cells)]
    data = ("Datum;Beschreibung;Betrag\n" + "\n".join(lines) + "\n").encode()
    assert [a for _, a, _ in rows(generic(data))] == [Decimal(e) for e in expected]


def test_a_dot_decimal_amount_where_the_comma_is_decimal_is_refused_not_misread() -> None:
    # ING Germany writes decimal commas: "5432.10" there would otherwise become 543210.
    data = fixture("ing_de.csv").replace(b"-54,32", b"-5432.10")
    error = refused(CsvParser(PRESETS["ing"]).parse(data, limits=LIMITS), "invalid_amount")
    assert error.details["location"] == 'line 16 column "Betrag"'
    assert '"-5432.10"' in error.message


def test_amounts_that_disagree_are_read_one_by_one() -> None:
    data = b"Datum;Beschreibung;Betrag\n2026-11-02;A;12,50\n2026-11-03;B;1234.56\n"
    assert [a for _, a, _ in rows(generic(data))] == [Decimal("12.50"), Decimal("1234.56")]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026-11-02", date(2026, 11, 2)),
        ("2026/11/02", date(2026, 11, 2)),
        ("20261102", date(2026, 11, 2)),
        ("02.11.2026", date(2026, 11, 2)),
        ("02.11.26", date(2026, 11, 2)),
        ("2 Nov 2026", date(2026, 11, 2)),
        ("02-Nov-2026", date(2026, 11, 2)),
        ("Nov 2, 2026", date(2026, 11, 2)),
        ("2. Dezember 2026", date(2026, 12, 2)),
        ("2 mars 2026", date(2026, 3, 2)),
        ("2026-11-02 14:23:11", date(2026, 11, 2)),
        ("2026-11-02T23:59:59Z", date(2026, 11, 2)),
        ("11/02/2026 9:05 PM", date(2026, 11, 2)),  # English header, no day above 12: US
    ],
)
def test_date_styles(cell: str, expected: date) -> None:
    data = f'Date,Description,Amount\n"{cell}",Shop,-1.00\n'.encode()
    assert rows(generic(data))[0][0] == expected


def test_one_day_above_twelve_decides_the_order_for_the_whole_file() -> None:
    lines = ["03/04/2026,A,-1", "05/06/2026,B,-1", "25/11/2026,C,-1"]
    data = ("Date,Description,Amount\n" + "\n".join(lines) + "\n").encode()
    assert [d for d, _, _ in rows(generic(data))] == [
        date(2026, 4, 3),
        date(2026, 6, 5),
        date(2026, 11, 25),
    ]
    # The same rows without the deciding one read in US order (an English header).
    without = ("Date,Description,Amount\n" + "\n".join(lines[:2]) + "\n").encode()
    assert [d for d, _, _ in rows(generic(without))] == [date(2026, 3, 4), date(2026, 5, 6)]


def test_a_file_mixing_day_first_and_month_first_is_refused_at_the_odd_row() -> None:
    data = b"Date,Description,Amount\n25/11/2026,A,-1\n03/04/2026,B,-1\n11/26/2026,C,-1\n"
    error = generic_error(data, "invalid_date")
    assert error.details["location"] == "line 4"
    assert "day/month/year" in error.message
    assert "line 2" in error.message


def test_generic_status_values_in_several_languages() -> None:
    data = (
        "Date;Libellé;Montant;Statut\n"
        "02/11/2026;A;-1,00;en attente\n03/11/2026;B;-2,00;annulé\n"
        "04/11/2026;C;-3,00;comptabilisé\n05/11/2026;D;-4,00;Cancelled\n"
    ).encode()
    statement = generic(data)
    assert [(t.description, t.status) for t in statement.accounts[0].transactions] == [
        ("A", TransactionStatus.PENDING),
        ("C", TransactionStatus.POSTED),
    ]
    assert last_part(data).skipped == {"cancelled rows": 2}


def test_generic_debit_and_credit_columns_in_spanish() -> None:
    data = b'Fecha,Concepto,Cargo,Abono,Saldo\n02/11/2026,Mercadona,"45,10",,"954,90"\n'
    statement = generic(data)
    assert rows(statement) == [(date(2026, 11, 2), Decimal("-45.10"), "Mercadona")]
    assert statement.accounts[0].balance == Decimal("954.90")


def test_generic_without_a_recognisable_header_says_what_it_looked_for() -> None:
    error = generic_error(b"Foo,Bar,Baz\n1,2,3\n", "invalid_csv")
    assert "date" in error.message
    assert "amount" in error.message
    assert "Foo" not in error.message


@pytest.mark.parametrize("separator", [",", ";", "\t", "|"])
def test_separator_sniffed_outside_quotes(separator: str) -> None:
    # The quoted header name holds more commas than the line has separators.
    header = separator.join(["Date", "Description", "Amount", '"Notes, tags, more, words"'])
    data = f'{header}\n2026-11-02{separator}"A, B"{separator}-1.00{separator}x\n'.encode()
    assert rows(generic(data)) == [(date(2026, 11, 2), Decimal("-1.00"), "A, B")]


@pytest.mark.parametrize(
    ("cell", "month"),
    [
        ("3 janv. 2026", 1),
        ("3 févr. 2026", 2),
        ("3 maart 2026", 3),
        ("3 März 2026", 3),
        ("3 giugno 2026", 6),
        ("3 juin 2026", 6),
        ("3 juil. 2026", 7),
        ("3 août 2026", 8),
        ("3 Okt 2026", 10),
        ("3 dic 2026", 12),
    ],
)
def test_month_names_in_several_languages(cell: str, month: int) -> None:
    data = f'Datum;Omschrijving;Bedrag\n"{cell}";Winkel;-1,00\n'.encode()
    assert rows(generic(data))[0][0] == date(2026, month, 3)
