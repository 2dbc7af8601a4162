"""Positions exports of each brokerage, on hand-made files shaped like theirs: exact numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from dashtam.core.result import Success
from dashtam.domain.accounts.entities import AccountType
from dashtam.domain.imports.investments import ParsedPosition
from dashtam.domain.imports.statement import StatementPart
from dashtam.domain.investments.entities import HeldIn, PositionType, SecurityId, SecurityKind
from dashtam.infrastructure.importers.csv_holdings import HoldingsCsvParser
from dashtam.infrastructure.importers.csv_holdings_presets import HOLDINGS_PRESETS
from tests.unit.importers.support import LIMITS, fixture

IMPORTED_AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
# (symbol, units, unit price, market value, cost basis, long/short, held in)
Row = tuple[str, Decimal, Decimal, Decimal, Decimal | None, PositionType, HeldIn]
LONG, SHORT = PositionType.LONG, PositionType.SHORT


def parts(data: bytes, preset: str, *, account: str | None = None) -> list[StatementPart]:
    parser = HoldingsCsvParser(HOLDINGS_PRESETS[preset], account=account, now=lambda: IMPORTED_AT)
    results = list(parser.stream(data, limits=LIMITS, batch_size=2))
    assert all(isinstance(result, Success) for result in results), results
    return [result.unwrap() for result in results]


def positions(part: StatementPart) -> list[Row]:
    assert part.investment is not None
    return [_row(p) for p in part.investment.positions]


def _row(p: ParsedPosition) -> Row:
    symbol = p.security_id.unique_id
    return (symbol, p.units, p.unit_price, p.market_value, p.cost_basis, p.position_type, p.held_in)


def cash(part: StatementPart) -> Decimal | None:
    assert part.investment is not None
    assert part.investment.balance is not None
    return part.investment.balance.available_cash


def D(text: str) -> Decimal:  # noqa: N802 - reads like the literal it stands for
    return Decimal(text)


FIDELITY_AS_OF = datetime(2026, 11, 30, 15, 15, tzinfo=UTC)  # 10:15 AM Eastern (EST)
FIDELITY_INDIVIDUAL: list[Row] = [
    ("AAPL", D("25"), D("237.33"), D("5933.25"), D("4250.00"), LONG, HeldIn.CASH),
    # Two lots of VTI, one in the cash sub-account and one in margin: a position in each.
    ("VTI", D("12.5"), D("291.88"), D("3648.50"), D("3100.00"), LONG, HeldIn.CASH),
    ("VTI", D("4"), D("291.88"), D("1167.52"), D("1000.00"), LONG, HeldIn.MARGIN),
    ("FXAIX", D("10.123"), D("201.456"), D("2039.34"), D("1800.00"), LONG, HeldIn.CASH),
    # A written call: its value is the file's (x100 contracts), not units times price.
    ("AAPL261218C250", D("-1"), D("12.40"), D("-1240.00"), None, SHORT, HeldIn.MARGIN),
]
FIDELITY_ROTH: list[Row] = [
    ("912828YK0", D("5000"), D("94.125"), D("4706.25"), D("4850.00"), LONG, HeldIn.CASH),
    ("VXUS", D("33.3333333333"), D("62.10"), D("2070.00"), D("1950.50"), LONG, HeldIn.CASH),
]


@pytest.mark.parametrize("preset", ["fidelity-positions", "generic-positions"])
def test_fidelity_one_part_per_account_with_its_positions_and_cash(preset: str) -> None:
    individual, roth = parts(fixture("holdings_fidelity.csv"), preset)
    if preset == "fidelity-positions":
        assert positions(individual) == FIDELITY_INDIVIDUAL
    else:  # a bare "Type" column is not read: both VTI lots are one position in cash
        vti = ("VTI", D("16.5"), D("291.88"), D("4816.02"), D("4100.00"), LONG, HeldIn.CASH)
        others = [(*r[:6], HeldIn.CASH) for r in FIDELITY_INDIVIDUAL if r[0] != "VTI"]
        assert positions(individual) == [others[0], vti, *others[1:]]
    assert positions(roth) == FIDELITY_ROTH
    # SPAXX** and FDRXX** are the core money-market positions: cash, not positions.
    assert (cash(individual), cash(roth)) == (D("2513.07"), D("812.40"))
    # Cash + positions + pending activity (-150.00, not settled yet) is the account's value.
    assert individual.account.balance == D("2513.07") + D("11548.61") - D("150.00")
    assert roth.account.balance == D("812.40") + D("6776.25")
    assert individual.investment is not None
    assert individual.investment.balance is not None
    assert individual.investment.balance.details == {"pending activity": "-150.00"}


def test_fidelity_accounts_are_named_by_their_number_and_the_footer_date() -> None:
    individual, roth = parts(fixture("holdings_fidelity.csv"), "fidelity-positions", account="x")
    for part, number, name in (
        (individual, "Z12345678", "Individual"),
        (roth, "234567890", "ROTH IRA"),
    ):
        account = part.account
        assert (account.provider_account_id, account.name) == (number, name)
        assert (account.account_type, account.currency) == (AccountType.BROKERAGE, "USD")
        assert account.balance_as_of == FIDELITY_AS_OF
        assert part.investment is not None
        assert part.investment.as_of == FIDELITY_AS_OF
        assert part.transactions == ()
    assert individual.investment is not None
    assert {p.price_as_of for p in individual.investment.positions} == {FIDELITY_AS_OF}


def test_fidelity_lots_in_two_sub_accounts_stay_two_positions() -> None:
    individual, _ = parts(fixture("holdings_fidelity.csv"), "fidelity-positions")
    assert individual.investment is not None
    vti = [p for p in individual.investment.positions if p.security_id.unique_id == "VTI"]
    assert [(p.held_in, p.units, p.memo) for p in vti] == [
        (HeldIn.CASH, D("12.5"), None),
        (HeldIn.MARGIN, D("4"), None),
    ]


def test_fidelity_securities_come_once_with_the_first_part() -> None:
    individual, roth = parts(fixture("holdings_fidelity.csv"), "fidelity-positions")
    assert roth.securities == ()
    described = {s.security_id: (s.name, s.ticker, s.kind) for s in individual.securities}
    assert described == {
        SecurityId("AAPL", "TICKER"): ("APPLE INC", "AAPL", SecurityKind.OTHER),
        SecurityId("VTI", "TICKER"): (
            "VANGUARD INDEX FDS TOTAL STK MKT ETF",
            "VTI",
            SecurityKind.OTHER,
        ),
        SecurityId("FXAIX", "TICKER"): ("FIDELITY 500 INDEX FUND", "FXAIX", SecurityKind.OTHER),
        # Fidelity's leading "-" marks an option; it is not part of the symbol.
        SecurityId("AAPL261218C250", "TICKER"): (
            "AAPL DEC 18 2026 $250 CALL",
            "AAPL261218C250",
            SecurityKind.OPTION,
        ),
        # A bond is listed by its CUSIP.
        SecurityId("912828YK0", "CUSIP"): (
            "UNITED STATES TREAS NTS 1.375% 10/31/2028",
            None,
            SecurityKind.OTHER,
        ),
        SecurityId("VXUS", "TICKER"): ("VANGUARD TOTAL INTL STOCK ETF", "VXUS", SecurityKind.OTHER),
    }
    assert {s.price_as_of for s in individual.securities} == {FIDELITY_AS_OF}


def test_fidelity_disclaimers_and_download_date_are_counted_as_footer() -> None:
    individual, roth = parts(fixture("holdings_fidelity.csv"), "fidelity-positions")
    assert individual.skipped == {}
    assert roth.skipped == {"footer lines": 3}
    assert (individual.done, roth.done, roth.total) == (8, 18, 18)


SCHWAB_AS_OF = datetime(2026, 11, 29, 21, 0, tzinfo=UTC)  # 04:00 PM Eastern (EST)
SCHWAB: list[Row] = [
    ("MSFT", D("40"), D("415.20"), D("16608.00"), D("12000.00"), LONG, HeldIn.CASH),
    # Schwab rounds the market value (150.5 x 28.35 = 4266.675): the file's value is kept.
    ("SCHD", D("150.5"), D("28.35"), D("4266.68"), D("4500.00"), LONG, HeldIn.CASH),
    ("SWPPX", D("100.123"), D("9.87"), D("988.21"), D("900.00"), LONG, HeldIn.CASH),
    ("91282CJL6", D("2000"), D("100.25"), D("2005.00"), D("1990.00"), LONG, HeldIn.CASH),
    (
        "AAPL 12/18/2026 250.00 C",
        D("-2"),
        D("12.40"),
        D("-2480.00"),
        D("-1960.00"),
        SHORT,
        HeldIn.CASH,
    ),
]


@pytest.mark.parametrize("preset", ["schwab-positions", "generic-positions"])
def test_schwab_positions_cash_line_and_total(preset: str) -> None:
    [part] = parts(fixture("holdings_schwab.csv"), preset)
    assert positions(part) == SCHWAB
    assert cash(part) == D("6214.55")
    # The same as the file's own "Account Total" line, which is not read.
    assert part.account.balance == D("27602.44")
    assert part.skipped == {"footer lines": 1}


def test_schwab_title_line_dates_the_file_and_names_the_account() -> None:
    [part] = parts(fixture("holdings_schwab.csv"), "schwab-positions")
    assert part.account.provider_account_id == "main"
    assert part.account.name == "Individual ...789"
    assert part.account.balance_as_of == SCHWAB_AS_OF
    assert part.investment is not None
    assert part.investment.as_of == SCHWAB_AS_OF
    [named] = parts(fixture("holdings_schwab.csv"), "schwab-positions", account="schwab-ind")
    assert named.account.provider_account_id == "schwab-ind"


def test_schwab_security_types_are_kinds() -> None:
    [part] = parts(fixture("holdings_schwab.csv"), "schwab-positions")
    assert [(s.security_id.unique_id, s.kind) for s in part.securities] == [
        ("MSFT", SecurityKind.STOCK),
        ("SCHD", SecurityKind.ETF),
        ("SWPPX", SecurityKind.MUTUAL_FUND),
        ("91282CJL6", SecurityKind.DEBT),
        ("AAPL 12/18/2026 250.00 C", SecurityKind.OPTION),
    ]
    assert part.securities[3].security_id.unique_id_type == "CUSIP"


IMPORT_DAY = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize("preset", ["vanguard-positions", "generic-positions"])
def test_vanguard_stops_before_its_transactions_section(preset: str) -> None:
    brokerage, retirement = parts(fixture("holdings_vanguard.csv"), preset)
    assert positions(brokerage) == [
        ("VTSAX", D("100.2564"), D("138.45"), D("13880.50"), None, LONG, HeldIn.CASH),
        # The settlement fund is listed as a fund: the file does not say it settles trades.
        ("VMFXX", D("2500.17"), D("1.00"), D("2500.17"), None, LONG, HeldIn.CASH),
        ("BND", D("30"), D("72.61"), D("2178.30"), None, LONG, HeldIn.CASH),
    ]
    assert positions(retirement) == [
        ("VFIFX", D("512.345"), D("52.18"), D("26734.16"), None, LONG, HeldIn.CASH),
    ]
    assert (brokerage.account.balance, retirement.account.balance) == (
        D("18558.97"),
        D("26734.16"),
    )
    assert (cash(brokerage), cash(retirement)) == (None, None)
    # The transactions header and its two rows.
    assert retirement.skipped == {"lines after the positions": 3}


def test_vanguard_states_no_date_so_the_import_day_is_the_as_of() -> None:
    brokerage, _ = parts(fixture("holdings_vanguard.csv"), "vanguard-positions")
    assert brokerage.investment is not None
    assert brokerage.investment.as_of == brokerage.account.balance_as_of == IMPORT_DAY
    # Prices of unknown date are not dated by the import.
    assert {p.price_as_of for p in brokerage.investment.positions} == {None}


def test_vanguard_blocks_per_account_under_a_repeated_header_are_all_read() -> None:
    header = "Account Number,Investment Name,Symbol,Shares,Share Price,Total Value,\n"
    data = (
        header
        + "111,VANGUARD 500 INDEX ADMIRAL,VFIAX,2.5,550.10,1375.25,\n"
        + "\n"
        + header
        + "222,VANGUARD 500 INDEX ADMIRAL,VFIAX,1,550.10,550.10,\n"
    ).encode()
    first, second = parts(data, "vanguard-positions")
    assert (first.account.provider_account_id, second.account.provider_account_id) == ("111", "222")
    assert second.skipped == {"repeated header lines": 1}
    assert len(first.securities) == 1


def test_collected_statement_has_each_account_and_its_balance() -> None:
    parser = HoldingsCsvParser(HOLDINGS_PRESETS["fidelity-positions"])
    statement = parser.parse(fixture("holdings_fidelity.csv"), limits=LIMITS).unwrap()
    assert [(a.provider_account_id, a.balance) for a in statement.accounts] == [
        ("Z12345678", D("13911.68")),
        ("234567890", D("7588.65")),
    ]
    assert statement.transaction_count() == 0
