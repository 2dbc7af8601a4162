"""The investment side of an import: securities, trades, positions and cash, in one commit."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from dashtam.application.finance.commands import ImportStatement
from dashtam.application.finance.imports import ImportStatementHandler
from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure, Success
from dashtam.domain.accounts.entities import AccountType
from dashtam.domain.imports.investments import (
    InvestmentData,
    ParsedInvestmentBalance,
    ParsedInvestmentTransaction,
    ParsedPosition,
    ParsedSecurity,
)
from dashtam.domain.imports.statement import ParsedAccount, StatementPart, import_error
from dashtam.domain.investments.entities import InvestmentKind, SecurityId, SecurityKind
from dashtam.domain.investments.events import HoldingsUpdated
from dashtam.domain.providers.events import StatementImported
from dashtam.infrastructure.errors import DatabaseError
from tests.fakes import FakeClock, FakeStore, RecordingLogger
from tests.unit.application.conftest import CONTEXT
from tests.unit.application.finance_support import (
    OWNER,
    PartResult,
    ScriptedParser,
    ScriptedParsers,
    seed_connection,
    tx,
)
from tests.unit.application.support import error_of

AS_OF = datetime(2026, 11, 28, 21, tzinfo=UTC)
VTI = SecurityId("922908769", "CUSIP")
AAPL = SecurityId("037833100", "CUSIP")
UNDESCRIBED = SecurityId("US0000000001", "ISIN")


def brokerage(balance: str | None = None) -> ParsedAccount:
    return ParsedAccount(
        provider_account_id="Z-1234",
        account_type=AccountType.BROKERAGE,
        currency="USD",
        balance=Decimal(balance) if balance else None,
        balance_as_of=AS_OF if balance else None,
    )


def buy(
    fitid: str, security: SecurityId, units: str, price: str, total: str
) -> ParsedInvestmentTransaction:
    return ParsedInvestmentTransaction(
        provider_transaction_id=fitid,
        kind=InvestmentKind.BUY,
        trade_date=date(2026, 11, 3),
        security_id=security,
        units=Decimal(units),
        unit_price=Decimal(price),
        total=Decimal(total),
    )


def statement() -> list[PartResult]:
    first = StatementPart(
        account=brokerage(),
        transactions=[tx("cash-1", "500.00")],
        done=2,
        total=3,
        securities=[
            ParsedSecurity(
                security_id=VTI,
                name="Vanguard Total Stock Market ETF",
                ticker="VTI",
                kind=SecurityKind.ETF,
            ),
            ParsedSecurity(
                security_id=AAPL, name="Apple Inc.", ticker="AAPL", kind=SecurityKind.STOCK
            ),
        ],
        investment=InvestmentData(
            as_of=AS_OF,
            transactions=[
                buy("B-1", VTI, "1.5", "240.1234567891", "-360.19"),
                buy("B-2", UNDESCRIBED, "10", "1", "-10.00"),
            ],
        ),
    )
    last = StatementPart(
        account=brokerage("1375.50"),
        transactions=[],
        done=3,
        total=3,
        investment=InvestmentData(
            as_of=AS_OF,
            positions=[
                ParsedPosition(
                    security_id=VTI,
                    units=Decimal("1.5"),
                    unit_price=Decimal("250.00"),
                    market_value=Decimal("375.00"),
                ),
                ParsedPosition(
                    security_id=AAPL,
                    units=Decimal("0.0000000001"),
                    unit_price=Decimal("230"),
                    market_value=Decimal("0.50"),
                ),
            ],
            balance=ParsedInvestmentBalance(
                available_cash=Decimal("1000.00"), details={"401k.pretax": "12.00"}
            ),
        ),
    )
    return [Success(first), Success(last)]


def handler(store: FakeStore, parts: list[PartResult]) -> ImportStatementHandler:
    return ImportStatementHandler(
        uow_factory=store.uow,
        parsers=ScriptedParsers(ScriptedParser(parts)),
        logger=RecordingLogger(),
        clock=FakeClock(),
    )


def command(connection_id: object) -> ImportStatement:
    return ImportStatement(
        user_id=OWNER,
        connection_id=connection_id,
        data=b"OFXHEADER:100",
        context=CONTEXT,  # type: ignore[arg-type]
    )


async def test_an_investment_statement_is_stored_exactly(store: FakeStore) -> None:
    connection = seed_connection(store)
    report = (await handler(store, statement()).handle(command(connection.id))).unwrap()
    assert (report.investment_transactions_new, report.holdings_added, report.transactions_new) == (
        2,
        2,
        1,
    )
    names = {s.unique_id: (s.name, s.ticker, s.kind) for s in store.securities.values()}
    assert names == {
        "922908769": ("Vanguard Total Stock Market ETF", "VTI", SecurityKind.ETF),
        "037833100": ("Apple Inc.", "AAPL", SecurityKind.STOCK),
        "US0000000001": ("US0000000001", None, SecurityKind.OTHER),  # referenced, not described
    }
    trades = {t.provider_transaction_id: t for t in store.investment_transactions.values()}
    assert trades["B-1"].unit_price == Decimal("240.1234567891")
    assert trades["B-1"].security is not None
    assert trades["B-1"].security.ticker == "VTI"
    positions = sorted(
        (h.security.ticker, h.units, h.market_value) for h in store.holdings.values()
    )
    assert positions == [
        ("AAPL", Decimal("1E-10"), Decimal("0.50")),
        ("VTI", Decimal("1.5"), Decimal("375.00")),
    ]
    [balance] = store.investment_balances.values()
    assert (balance.available_cash, dict(balance.details)) == (
        Decimal("1000.00"),
        {"401k.pretax": "12.00"},
    )
    [account] = store.accounts.values()
    assert account.balance == Decimal("1375.50")  # what net worth counts: cash + positions
    [event] = store.events_of(HoldingsUpdated)
    assert isinstance(event, HoldingsUpdated)
    assert (event.account_id, event.positions, event.positions_added) == (account.id, 2, 2)
    assert (event.investment_transactions_new, event.as_of) == (2, AS_OF)


async def test_importing_it_again_adds_nothing(store: FakeStore) -> None:
    connection = seed_connection(store)
    (await handler(store, statement()).handle(command(connection.id))).unwrap()
    again = (await handler(store, statement()).handle(command(connection.id))).unwrap()
    assert (again.investment_transactions_new, again.investment_transactions_unchanged) == (0, 2)
    assert (again.holdings_added, len(store.holdings)) == (0, 2)
    assert len(store.events_of(HoldingsUpdated)) == 2  # one per import: it says what changed


async def test_a_failure_after_the_investments_leaves_nothing(store: FakeStore) -> None:
    connection = seed_connection(store)
    parts = [*statement(), Failure(import_error("bad", location="INVPOS #3"))]
    error = error_of(await handler(store, parts).handle(command(connection.id)))
    assert isinstance(error, ValidationError)
    assert (store.securities, store.holdings, store.investment_transactions) == ({}, {}, {})
    assert store.events_of(StatementImported) == []
    assert store.events_of(HoldingsUpdated) == []


async def test_an_older_statement_keeps_newer_names(store: FakeStore) -> None:
    connection = seed_connection(store)
    (await handler(store, statement()).handle(command(connection.id))).unwrap()
    first, last = statement()
    assert isinstance(first, Success)
    renamed = replace(
        first.value,
        securities=[ParsedSecurity(security_id=VTI, name="OLD NAME", ticker="VTI")],
        investment=replace(first.value.investment, as_of=datetime(2026, 10, 1, tzinfo=UTC)),  # type: ignore[type-var]
    )
    (await handler(store, [Success(renamed), last]).handle(command(connection.id))).unwrap()
    assert {s.name for s in store.securities.values() if s.unique_id == VTI.unique_id} == {
        "Vanguard Total Stock Market ETF"
    }


def trade(
    fitid: str, kind: InvestmentKind, day: date, security: SecurityId, units: str, total: str
) -> ParsedInvestmentTransaction:
    return ParsedInvestmentTransaction(
        provider_transaction_id=fitid,
        kind=kind,
        trade_date=day,
        security_id=security,
        units=Decimal(units),
        total=Decimal(total),
    )


def december() -> list[PartResult]:
    """A month later: VTI half sold, AAPL bought with its cost stated, too few UNDESCRIBED."""
    as_of = datetime(2026, 12, 31, 21, tzinfo=UTC)
    sell = InvestmentKind.SELL
    data = InvestmentData(
        as_of=as_of,
        transactions=[
            trade("S-1", sell, date(2026, 12, 1), VTI, "-0.5", "130.00"),
            trade("B-3", InvestmentKind.BUY, date(2026, 12, 2), AAPL, "2", "-300.00"),
            # After the statement's as-of: not part of the position it states.
            trade("B-4", InvestmentKind.BUY, date(2027, 1, 5), VTI, "1", "-260.00"),
        ],
        positions=[
            ParsedPosition(
                security_id=VTI,
                units=Decimal("1.0"),
                unit_price=Decimal("260.00"),
                market_value=Decimal("260.00"),
            ),
            ParsedPosition(
                security_id=AAPL,
                units=Decimal("2"),
                unit_price=Decimal("230"),
                market_value=Decimal("460.00"),
                cost_basis=Decimal("400.00"),
            ),
            ParsedPosition(
                security_id=UNDESCRIBED,
                units=Decimal("12"),
                unit_price=Decimal("1"),
                market_value=Decimal("12.00"),
            ),
        ],
    )
    part = StatementPart(
        account=brokerage("732.00"), transactions=[], done=1, total=1, investment=data
    )
    return [Success(part)]


def costs(store: FakeStore, as_of: datetime) -> dict[str, tuple[object, object]]:
    return {
        h.security.ticker or h.security.unique_id: (h.cost_basis, h.unrealised_gain)
        for h in store.holdings.values()
        if h.as_of == as_of
    }


async def test_a_position_the_trades_explain_gets_their_cost(store: FakeStore) -> None:
    connection = seed_connection(store)
    (await handler(store, statement()).handle(command(connection.id))).unwrap()
    # VTI: bought 1.5 for 360.19 in this file; AAPL: no trades, no cost in the file.
    assert costs(store, AS_OF) == {
        "VTI": (Decimal("360.19"), Decimal("14.81")),
        "AAPL": (None, None),
    }


async def test_earlier_imports_trades_count_and_the_files_cost_wins(store: FakeStore) -> None:
    connection = seed_connection(store)
    (await handler(store, statement()).handle(command(connection.id))).unwrap()
    (await handler(store, december()).handle(command(connection.id))).unwrap()
    # VTI: 360.19 less the average cost of the 0.5 sold (120.0633); the January buy is later.
    # AAPL: the file says 400.00 and is not second-guessed; UNDESCRIBED: 10 bought, 12 held.
    assert costs(store, datetime(2026, 12, 31, 21, tzinfo=UTC)) == {
        "VTI": (Decimal("240.1267"), Decimal("19.8733")),
        "AAPL": (Decimal("400.00"), Decimal("60.00")),
        "US0000000001": (None, None),
    }


async def test_a_failure_to_read_the_trades_fails_the_import(store: FakeStore) -> None:
    connection = seed_connection(store)
    store.faults.fail_next("investment_transactions.of_securities", DatabaseError("boom"))
    error = error_of(await handler(store, statement()).handle(command(connection.id)))
    assert error.message == "boom"
    assert (store.holdings, store.investment_transactions) == ({}, {})
