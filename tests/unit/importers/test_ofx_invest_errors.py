"""Investment statements that bend or break the specification: read when meant, else refused
saying where."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from dashtam.core.result import Failure
from dashtam.domain.imports.investments import InvestmentData, ParsedInvestmentTransaction
from dashtam.domain.imports.statement import ImportLimits, StatementPart
from dashtam.domain.investments.entities import InvestmentKind, SecurityId
from dashtam.infrastructure.importers.ofx import OfxParser
from tests.unit.importers.support import LIMITS, OFX2_HEADER, bank_ofx, refused, stmttrn

AT = "INVSTMTRS #1 BUYSTOCK #1"
SECID = "<SECID><UNIQUEID>037833100</UNIQUEID><UNIQUEIDTYPE>CUSIP</UNIQUEIDTYPE></SECID>"


def buy(
    *,
    fitid: str | None = "B1",
    units: str = "10",
    price: str = "12.50",
    total: str | None = "-125.00",
    secid: str = SECID,
    traded: str | None = "20240102",
) -> str:
    invtran = "".join(
        [
            f"<FITID>{fitid}</FITID>" if fitid is not None else "",
            f"<DTTRADE>{traded}</DTTRADE>" if traded is not None else "",
        ]
    )
    return (
        f"<BUYSTOCK><INVBUY><INVTRAN>{invtran}</INVTRAN>{secid}"
        f"<UNITS>{units}</UNITS><UNITPRICE>{price}</UNITPRICE>"
        + (f"<TOTAL>{total}</TOTAL>" if total is not None else "")
        + "<SUBACCTSEC>CASH</SUBACCTSEC><SUBACCTFUND>CASH</SUBACCTFUND></INVBUY>"
        "<BUYTYPE>BUY</BUYTYPE></BUYSTOCK>"
    )


def invest_ofx(*trades: str, positions: str = "", head: str = "<DTASOF>20240131</DTASOF>") -> bytes:
    body = (
        "<OFX><INVSTMTMSGSRSV1><INVSTMTTRNRS><TRNUID>1</TRNUID>"
        f"<INVSTMTRS>{head}<CURDEF>USD</CURDEF>"
        "<INVACCTFROM><BROKERID>b.example</BROKERID><ACCTID>A-1</ACCTID></INVACCTFROM>"
        "<INVTRANLIST><DTSTART>20240101</DTSTART><DTEND>20240130</DTEND>"
        + "".join(trades)
        + f"</INVTRANLIST><INVPOSLIST>{positions}</INVPOSLIST>"
        "</INVSTMTRS></INVSTMTTRNRS></INVSTMTMSGSRSV1></OFX>"
    )
    return (OFX2_HEADER + body).encode()


def _investment(data: bytes) -> InvestmentData:
    [part] = _parts(data)
    assert part.investment is not None
    return part.investment


def _parts(data: bytes) -> list[StatementPart]:
    return [p.unwrap() for p in OfxParser().stream(data, limits=LIMITS, batch_size=100)]


def _trade(data: bytes) -> ParsedInvestmentTransaction:
    [trade] = _investment(data).transactions
    return trade


@pytest.mark.parametrize(
    ("data", "code", "location"),
    [
        (invest_ofx(buy(units="ten")), "invalid_amount", "INVSTMTRS #1 BUYSTOCK #1 UNITS"),
        (invest_ofx(buy(units="1.5.0")), "invalid_amount", "INVSTMTRS #1 BUYSTOCK #1 UNITS"),
        (invest_ofx(buy(units="1e3")), "invalid_amount", "INVSTMTRS #1 BUYSTOCK #1 UNITS"),
        (invest_ofx(buy(price="0.12345678901")), "invalid_amount", f"{AT} UNITPRICE"),
        (invest_ofx(buy(total="-125.00001")), "invalid_amount", "INVSTMTRS #1 BUYSTOCK #1 TOTAL"),
        (invest_ofx(buy(), buy(fitid="B2", secid="")), "invalid_file", "INVSTMTRS #1 BUYSTOCK #2"),
        (invest_ofx(buy(total=None)), "invalid_file", "INVSTMTRS #1 BUYSTOCK #1"),
        (invest_ofx(buy(traded=None)), "invalid_file", "INVSTMTRS #1 BUYSTOCK #1"),
        (invest_ofx(buy(traded="2024-01-02")), "invalid_date", f"{AT} INVTRAN/DTTRADE"),
    ],
)  # fmt: skip
def test_a_field_that_cannot_be_read_is_refused_saying_where(
    data: bytes, code: str, location: str
) -> None:
    error = refused(OfxParser().parse(data, limits=LIMITS), code)
    assert error.details == {"location": location}
    assert error.message.startswith(location + ": ")
    assert "Traceback" not in error.message


def test_the_messages_say_what_is_wrong_in_plain_words() -> None:
    messages = [
        refused(OfxParser().parse(data, limits=LIMITS), code).message
        for data, code in [
            (invest_ofx(buy(secid="")), "invalid_file"),
            (invest_ofx(buy(units="0.12345678901")), "invalid_amount"),
            (invest_ofx(buy(units="ten")), "invalid_amount"),
            (invest_ofx(buy(secid="<SECID><UNIQUEID>1</UNIQUEID></SECID>")), "invalid_file"),
        ]
    ]
    assert messages == [
        "INVSTMTRS #1 BUYSTOCK #1: SECID (the security) is missing",
        'INVSTMTRS #1 BUYSTOCK #1 UNITS: "0.12345678901" has more than 10 decimal places',
        'INVSTMTRS #1 BUYSTOCK #1 UNITS: "ten" is not a number',
        "INVSTMTRS #1 BUYSTOCK #1: SECID/UNIQUEIDTYPE (the kind of security id) is missing",
    ]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.1234567891", "0.1234567891"),  # ten places: fund NAVs, crypto
        ("1,250.5", "1250.5"),
        ("12,5", "12.5"),
        (".25", "0.25"),
        ("+3", "3"),
        (" 7 ", "7"),
    ],
)
def test_units_as_brokers_write_them(text: str, value: str) -> None:
    units = _trade(invest_ofx(buy(units=text))).units
    assert str(units) == value


def test_an_unknown_id_type_is_kept_as_the_file_names_it() -> None:
    secid = "<SECID><UNIQUEID>FXAIX </UNIQUEID><UNIQUEIDTYPE>fidelity.com</UNIQUEIDTYPE></SECID>"
    assert _trade(invest_ofx(buy(secid=secid))).security_id == SecurityId("FXAIX", "FIDELITY.COM")


def test_an_aggregate_the_specification_does_not_name_is_read_as_other() -> None:
    odd = (
        "<INTU.WASHSALE><INVTRAN><FITID>W1</FITID><DTTRADE>20240105</DTTRADE>"
        f"<MEMO>Wash sale adjustment</MEMO></INVTRAN>{SECID}<TOTAL>0</TOTAL></INTU.WASHSALE>"
    )
    parts = _parts(invest_ofx(buy(), odd))
    assert parts[0].investment is not None
    trade = parts[0].investment.transactions[1]
    assert (trade.kind, trade.security_id, trade.memo) == (
        InvestmentKind.OTHER,
        SecurityId("037833100", "CUSIP"),
        "Wash sale adjustment; INTU.WASHSALE",
    )
    assert (parts[0].done, parts[0].total) == (2, 2)  # counted as it is read


def test_reused_and_missing_fitids_get_stable_distinct_ids() -> None:
    data = invest_ofx(
        buy(fitid="X"),
        buy(fitid="X", units="5", total="-62.50"),
        buy(fitid="X"),  # the first again: read once
        buy(fitid=None, units="2", total="-25.00"),
        buy(fitid=None, units="2", total="-25.00"),  # two identical trades without FITID
    )
    ids = [t.provider_transaction_id for t in _investment(data).transactions]
    assert ids[0] == "X"
    assert ids[1].startswith("X~")
    assert ids[2].startswith("ofx-")
    assert ids[3] != ids[2]
    assert len(ids) == 4
    assert [t.provider_transaction_id for t in _investment(data).transactions] == ids


def test_sgml_with_list_items_left_open_is_read_item_by_item() -> None:
    income = (
        "<INCOME><INVTRAN><FITID>{0}<DTTRADE>2024011{0}</INVTRAN>"
        "<SECID><UNIQUEID>037833100<UNIQUEIDTYPE>CUSIP</SECID>"
        "<INCOMETYPE>DIV<TOTAL>{0}.25<SUBACCTSEC>CASH<SUBACCTFUND>CASH\n"
    )
    data = (
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\n\n<OFX><INVSTMTMSGSRSV1><INVSTMTTRNRS>"
        "<INVSTMTRS><DTASOF>20240131<CURDEF>USD<INVACCTFROM><BROKERID>b<ACCTID>A-1"
        "</INVACCTFROM><INVTRANLIST><DTSTART>20240101<DTEND>20240131\n"
        + income.format(1)
        + income.format(2)
        + "</INVTRANLIST><INVBAL><AVAILCASH>10<MARGINBALANCE>0<SHORTBALANCE>0</INVBAL>"
        "</INVSTMTRS></INVSTMTTRNRS></INVSTMTMSGSRSV1></OFX>"
    ).encode()
    [part] = _parts(data)
    assert part.investment is not None
    assert [(t.provider_transaction_id, t.total) for t in part.investment.transactions] == [
        ("1", Decimal("1.25")),
        ("2", Decimal("2.25")),
    ]
    assert part.account.balance == Decimal("10")


def test_the_as_of_date_falls_back_to_the_list_end_and_is_required_at_last() -> None:
    [part] = _parts(invest_ofx(buy(), head=""))
    assert part.investment is not None
    assert part.investment.as_of == datetime(2024, 1, 30, tzinfo=UTC)
    undated = invest_ofx(buy(), head="").replace(b"<DTEND>20240130</DTEND>", b"")
    error = refused(OfxParser().parse(undated, limits=LIMITS), "invalid_file")
    assert error.message == "INVSTMTRS #1: DTASOF (the statement's date) is missing"


def test_a_position_without_its_market_value_is_refused() -> None:
    position = (
        f"<POSSTOCK><INVPOS>{SECID}<HELDINACCT>CASH</HELDINACCT><POSTYPE>LONG</POSTYPE>"
        "<UNITS>1</UNITS><UNITPRICE>2</UNITPRICE><DTPRICEASOF>20240131</DTPRICEASOF>"
        "</INVPOS></POSSTOCK>"
    )
    error = refused(
        OfxParser().parse(invest_ofx(positions=position), limits=LIMITS), "invalid_file"
    )
    assert error.message == "INVSTMTRS #1 POSSTOCK #1: MKTVAL (market value) is missing"


def test_a_bad_seclist_is_refused_before_the_first_part() -> None:
    seclist = (
        "<SECLISTMSGSRSV1><SECLIST><STOCKINFO><SECINFO>"
        f"{SECID}<SECNAME>APPLE</SECNAME><UNITPRICE>2l0.5</UNITPRICE>"
        "</SECINFO></STOCKINFO></SECLIST></SECLISTMSGSRSV1></OFX>"
    )
    data = invest_ofx(buy()).replace(b"</OFX>", seclist.encode())
    results = list(OfxParser().stream(data, limits=LIMITS, batch_size=1))
    assert len(results) == 1
    assert isinstance(results[0], Failure)
    assert results[0].error.details == {"location": "SECLIST STOCKINFO #1 SECINFO/UNITPRICE"}


def test_control_characters_in_a_security_id_are_refused() -> None:
    secid = "<SECID><UNIQUEID>0378\x0033100</UNIQUEID><UNIQUEIDTYPE>CUSIP</UNIQUEIDTYPE></SECID>"
    error = refused(OfxParser().parse(invest_ofx(buy(secid=secid)), limits=LIMITS), "invalid_file")
    assert error.details == {"location": "INVSTMTRS #1 BUYSTOCK #1 SECID/UNIQUEID"}


def test_the_transaction_limit_counts_investment_transactions() -> None:
    data = invest_ofx(buy(fitid="1"), buy(fitid="2"), buy(fitid="3"))
    results = list(OfxParser().stream(data, limits=ImportLimits(max_transactions=2), batch_size=1))
    assert len(results) == 1
    assert isinstance(results[0], Failure)
    assert results[0].error.code == "too_many_rows"


def test_a_seclist_without_any_investment_statement_is_reported_skipped() -> None:
    seclist = (
        "<SECLISTMSGSRSV1><SECLIST><STOCKINFO><SECINFO>"
        f"{SECID}<SECNAME>APPLE</SECNAME></SECINFO></STOCKINFO></SECLIST></SECLISTMSGSRSV1></OFX>"
    )
    data = bank_ofx(stmttrn()).replace(b"</OFX>", seclist.encode())
    [part] = _parts(data)
    assert (part.skipped, part.securities, part.investment) == ({"securities": 1}, (), None)


def test_a_broker_error_instead_of_the_statement_is_shown() -> None:
    status = "<TRNUID>1</TRNUID><STATUS><CODE>2003</CODE><SEVERITY>ERROR</SEVERITY></STATUS>"
    data = invest_ofx(buy()).replace(b"<TRNUID>1</TRNUID>", status.encode())
    error = refused(OfxParser().parse(data, limits=LIMITS), "bank_error")
    assert error.message == (
        "INVSTMTTRNRS STATUS: the bank sent an error instead of a statement (code 2003): "
        "account not found"
    )
