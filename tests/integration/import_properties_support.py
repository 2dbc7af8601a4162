"""Generated bank statements for the import property tests: the model, its files, its slices.

A statement is a list of posted rows of one account, in the order the bank wrote them. It is
rendered as the OFX or CSV file a bank would send for any run of whole days, so a slice of it
is the file a user downloads for a shorter period.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

# Starts that cross a month end, a year end and a leap day within 20 days.
STARTS = (date(2026, 2, 5), date(2025, 12, 20), date(2024, 2, 20))
# Case variants normalise to one CSV description; "," ";" "&" exercise quoting and escaping.
PAYEES = (
    "COFFEE SHOP",
    "Coffee Shop",
    "GROCERY OUTLET",
    "Café Molière",
    "AT&T",
    "Smith, J.",
    "PAYROLL ACME; INC",
)
MEMOS = (None, None, "card 1234", "Ref: 42")
COMMON_AMOUNTS = tuple(Decimal(a) for a in ("-4.75", "-12.00", "1500.00", "-1234.56", "0.00"))
OPENING_BALANCE = Decimal("2500.00")


@dataclass(frozen=True, slots=True)
class Row:
    posted_on: date
    amount: Decimal
    payee: str
    memo: str | None
    fitid: str | None  # OFX only; None is a bank that left FITID out
    balance: Decimal = Decimal(0)  # the bank's running balance after this row

    @property
    def kind(self) -> str:
        return "CREDIT" if self.amount > 0 else "DEBIT"

    def content(self) -> tuple[Any, ...]:
        """What the OFX reader compares when a FITID comes back (all our rows are posted)."""
        return (self.posted_on, self.amount, self.kind, self.payee, self.memo)


@dataclass(frozen=True, slots=True)
class Statement:
    rows: tuple[Row, ...]  # oldest day first; the bank's order within a day

    def days(self) -> list[date]:
        return sorted({row.posted_on for row in self.rows})

    def between(self, first: date, last: date) -> Statement:
        """The export of whole days ``first``..``last``: every row of those days, in order."""
        return Statement(tuple(r for r in self.rows if first <= r.posted_on <= last))


def expected_transactions(statement: Statement, *, ofx: bool) -> Counter[tuple[Any, ...]]:
    """(date, amount, description, memo) of every transaction the statement holds, counted
    without the importer's ids: each CSV row is one; an OFX row that repeats an earlier row's
    FITID and content is the bank sending it twice and is one."""
    seen: set[tuple[Any, ...]] = set()
    found: Counter[tuple[Any, ...]] = Counter()
    for row in statement.rows:
        if ofx and row.fitid is not None:
            key = (row.fitid, row.content())
            if key in seen:
                continue
            seen.add(key)
        found[(row.posted_on, row.amount, row.payee, row.memo)] += 1
    return found


amounts = st.one_of(
    st.sampled_from(COMMON_AMOUNTS),
    st.decimals(
        min_value=-5000, max_value=5000, places=2, allow_nan=False, allow_infinity=False
    ).map(lambda d: d if d != 0 else Decimal("0.00")),  # "-0.00" is no bank's writing
)


@st.composite
def statements(draw: st.DrawFn, *, ofx: bool) -> Statement:
    """1-60 rows over 1-20 days, with equal amounts, identical rows on one day and, for OFX,
    FITIDs that are missing, sent twice, or reused on the same day for other content."""
    start = draw(st.sampled_from(STARTS))
    span = draw(st.sampled_from(range(1, 21)))
    rows: list[Row] = []
    for number in range(draw(st.sampled_from(range(1, 61)))):
        own = f"{start:%Y%m%d}{number:05d}"
        if rows and draw(st.integers(0, 3)) == 0:
            twin = draw(st.sampled_from(rows))
            # Two equal charges with their own FITIDs, the same one sent twice, or no FITIDs.
            fitid = draw(st.sampled_from([own, twin.fitid, None])) if ofx else None
            rows.append(Row(twin.posted_on, twin.amount, twin.payee, twin.memo, fitid))
            continue
        posted_on = start + timedelta(days=draw(st.integers(0, span - 1)))
        fitid = draw(_fitid(rows, posted_on, own)) if ofx else None
        payee, memo = draw(st.sampled_from(PAYEES)), draw(st.sampled_from(MEMOS))
        rows.append(Row(posted_on, draw(amounts), payee, memo, fitid))
    balance, ordered = OPENING_BALANCE, []
    for row in sorted(rows, key=lambda r: r.posted_on):
        balance += row.amount
        ordered.append(replace(row, balance=balance))
    return Statement(tuple(ordered))


def _fitid(rows: list[Row], posted_on: date, own: str) -> st.SearchStrategy[str | None]:
    # Reuse stays within a day: across days a reused FITID cannot be told from the bank
    # correcting its transaction once the two days are in different files (see the test).
    same_day = sorted({r.fitid for r in rows if r.posted_on == posted_on and r.fitid})
    choices: list[str | None] = [own, own, own, None, *same_day[:2]]
    return st.sampled_from(choices)


@st.composite
def slicings(draw: st.DrawFn, statement: Statement) -> list[tuple[date, date]]:
    """1-5 runs of whole days covering every day of the statement, overlapping or not, in the
    order they are imported."""
    days = statement.days()
    count = min(draw(st.integers(2, 5)), len(days))
    cuts = (
        sorted(draw(st.sets(st.integers(1, len(days) - 1), min_size=count - 1, max_size=count - 1)))
        if count > 1
        else []
    )
    bounds = [0, *cuts, len(days)]
    ranges = []
    for first, end in itertools.pairwise(bounds):
        before, after = draw(st.integers(0, 2)), draw(st.integers(0, 2))
        ranges.append((days[max(first - before, 0)], days[min(end - 1 + after, len(days) - 1)]))
    return draw(st.permutations(ranges))


@dataclass(frozen=True, slots=True)
class OfxStyle:
    sgml: bool  # OFX 1.x in cp1252, leaves unclosed; else OFX 2.x XML in UTF-8
    time: str  # after YYYYMMDD: none, noon GMT, or late/early local times a UTC shift would move
    decimal_comma: bool
    open_transactions: bool  # SGML: STMTTRN aggregates left unclosed, as some banks do


ofx_styles = st.builds(
    OfxStyle,
    sgml=st.booleans(),
    time=st.sampled_from(["", "120000", "233000.000[-5:EST]", "001500[+9:JST]"]),
    decimal_comma=st.booleans(),
    open_transactions=st.booleans(),
)

_SGML_HEADER = (
    "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\n"
    "CHARSET:1252\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n"
)
_XML_HEADER = (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
    '<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>\n'
)


def ofx_file(part: Statement, style: OfxStyle, *, first: date, last: date) -> bytes:
    """The bank's statement of days ``first``..``last``: ``part`` holds every row of them."""

    def leaf(name: str, value: str) -> str:
        if not style.sgml:  # SGML exports write a bare "&"; XML must escape it
            value = value.replace("&", "&amp;").replace("<", "&lt;")
        return f"<{name}>{value}" if style.sgml else f"<{name}>{value}</{name}>"

    def when(day: date) -> str:
        return f"{day:%Y%m%d}{style.time}"

    def money(value: Decimal) -> str:
        text = f"{value:.2f}"
        return text.replace(".", ",") if style.decimal_comma else text

    items = []
    for row in part.rows:
        fields = [
            leaf("TRNTYPE", row.kind),
            leaf("DTPOSTED", when(row.posted_on)),
            leaf("TRNAMT", money(row.amount)),
            leaf("FITID", row.fitid) if row.fitid is not None else "",
            leaf("NAME", row.payee),
            leaf("MEMO", row.memo) if row.memo is not None else "",
        ]
        close = "" if style.sgml and style.open_transactions else "</STMTTRN>"
        items.append("<STMTTRN>" + "".join(fields) + close + "\n")
    # Whole days: the last row of the slice closes its last day, so its balance is the day's.
    balance = part.rows[-1].balance
    body = (
        "<OFX><SIGNONMSGSRSV1><SONRS><STATUS>"
        + leaf("CODE", "0")
        + leaf("SEVERITY", "INFO")
        + "</STATUS>"
        + leaf("DTSERVER", when(last + timedelta(days=1)))
        + leaf("LANGUAGE", "ENG")
        + "</SONRS></SIGNONMSGSRSV1>\n<BANKMSGSRSV1><STMTTRNRS>"
        + leaf("TRNUID", "1")
        + "<STATUS>"
        + leaf("CODE", "0")
        + leaf("SEVERITY", "INFO")
        + "</STATUS><STMTRS>"
        + leaf("CURDEF", "USD")
        + "<BANKACCTFROM>"
        + leaf("BANKID", "121000248")
        + leaf("ACCTID", "7654321098")
        + leaf("ACCTTYPE", "CHECKING")
        + "</BANKACCTFROM>\n<BANKTRANLIST>"
        + leaf("DTSTART", when(first))
        + leaf("DTEND", when(last))
        + "\n"
        + "".join(items)
        + "</BANKTRANLIST><LEDGERBAL>"
        + leaf("BALAMT", money(balance))
        + leaf("DTASOF", when(last))
        + "</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
    )
    if style.sgml:
        return (_SGML_HEADER + body).encode("cp1252")
    return (_XML_HEADER + body).encode()


@dataclass(frozen=True, slots=True)
class CsvLayout:
    """One way a bank writes its export, and the import options that read it."""

    header: tuple[str, ...]  # date, description, memo, amount (or debit, credit), balance
    delimiter: str
    date_format: str
    amounts: str  # "plain" -1234.56, "us" -1,234.56, "de" -1.234,56, "split" debit/credit
    encoding: str
    options: dict[str, Any]
    preamble: tuple[str, ...] = ()


# No layout has an id column, and none leaves the date order to the file where no day above
# 12 could decide it: US order under English names, day first under German names or a mapping.
CSV_LAYOUTS = (
    CsvLayout(
        ("Date", "Description", "Memo", "Amount", "Balance"),
        ",",
        "%m/%d/%Y",
        "us",
        "utf-8",
        {"preset": "generic"},
    ),
    CsvLayout(
        ("Date", "Description", "Memo", "Amount", "Balance"),
        ",",
        "%Y-%m-%d",
        "plain",
        "utf-8-sig",
        {"preset": "generic"},
    ),
    CsvLayout(
        ("Buchungstag", "Empfänger", "Verwendungszweck", "Betrag", "Saldo"),
        ";",
        "%d.%m.%Y",
        "de",
        "cp1252",
        {"preset": "generic"},
        ("Umsatzanzeige;Girokonto", "Kontoname;Privat", ""),
    ),
    CsvLayout(
        ("Booked", "Text", "Note", "Out", "In", "Left"),
        "\t",
        "%d/%m/%Y",
        "split",
        "utf-8",
        {
            "mapping": {
                "date": "Booked",
                "description": "Text",
                "memo": "Note",
                "debit": "Out",
                "credit": "In",
                "balance": "Left",
                "date_format": "%d/%m/%Y",
                "decimal_separator": ",",
                "delimiter": "\t",
            }
        },
    ),
)


@dataclass(frozen=True, slots=True)
class CsvStyle:
    layout: CsvLayout
    newest_first: bool
    line_end: str


csv_styles = st.builds(
    CsvStyle,
    layout=st.sampled_from(CSV_LAYOUTS),
    newest_first=st.booleans(),
    line_end=st.sampled_from(["\r\n", "\n"]),
)


def csv_file(part: Statement, style: CsvStyle) -> bytes:
    layout = style.layout
    out = io.StringIO()
    writer = csv.writer(out, delimiter=layout.delimiter, lineterminator=style.line_end)
    for line in layout.preamble:
        out.write(line + style.line_end)
    writer.writerow(layout.header)
    rows = reversed(part.rows) if style.newest_first else part.rows
    for row in rows:
        writer.writerow(
            [
                row.posted_on.strftime(layout.date_format),
                row.payee,
                row.memo or "",
                *_csv_amount(row.amount, layout.amounts),
                _csv_number(row.balance, layout.amounts),
            ]
        )
    return out.getvalue().encode(layout.encoding)


def _csv_amount(value: Decimal, style: str) -> list[str]:
    if style != "split":
        return [_csv_number(value, style)]
    text = _csv_number(abs(value), style)
    return [text, ""] if value < 0 else ["", text]


def _csv_number(value: Decimal, style: str) -> str:
    if style == "split":
        return f"{value:.2f}".replace(".", ",")
    if style == "plain":
        return f"{value:.2f}"
    us = f"{value:,.2f}"
    return us if style == "us" else us.translate(str.maketrans(",.", ".,"))
