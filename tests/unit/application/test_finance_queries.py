"""FinanceQueries: owner-scoped reads, each audited once (through the read audit log, with
no commit); net worth per currency."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from decimal import Decimal
from uuid import UUID

import pytest

from dashtam.application.finance.commands import SearchTransactions
from dashtam.application.finance.queries import (
    CurrencyTotals,
    FinanceQueries,
    net_worth_by_currency,
)
from dashtam.core.errors import Error, NotFoundError
from dashtam.core.ids import new_id
from dashtam.core.result import Result
from dashtam.domain.accounts.entities import Account, AccountType
from dashtam.domain.audit import AuditAction, AuditOutcome, ResourceType
from dashtam.domain.transactions.repository import TransactionCursor, TransactionQuery
from dashtam.infrastructure.errors import DatabaseError, DatabaseUnavailableError
from tests.fakes import FakeStore
from tests.fakes.read_audit import FakeReadAuditLog
from tests.unit.application.conftest import CONTEXT
from tests.unit.application.finance_support import OWNER, STRANGER, seed_account, seed_connection
from tests.unit.application.support import error_of

Read = Callable[[FinanceQueries, Account], Awaitable[Result[object, Error]]]


def search(account_id: UUID | None = None, *, limit: int = 50) -> SearchTransactions:
    query = TransactionQuery(user_id=OWNER, account_id=account_id)
    return SearchTransactions(query=query, after=None, limit=limit, context=CONTEXT)


READS: dict[str, Read] = {
    "connections": lambda q, a: q.connections(OWNER, CONTEXT),
    "accounts": lambda q, a: q.accounts(OWNER, CONTEXT),
    "account": lambda q, a: q.account(OWNER, a.id, CONTEXT),
    "balance_history": lambda q, a: q.balance_history(OWNER, a.id, CONTEXT),
    "transactions": lambda q, a: q.transactions(search()),
    "transactions_of_account": lambda q, a: q.transactions(search(a.id)),
    "net_worth": lambda q, a: q.net_worth(OWNER, CONTEXT),
}


@pytest.fixture
async def mine(store: FakeStore) -> Account:
    return await seed_account(store, seed_connection(store), balance="10", transactions=3)


@pytest.fixture
async def theirs(store: FakeStore) -> Account:
    connection = seed_connection(store, user_id=STRANGER)
    return await seed_account(store, connection, "555", balance="99", transactions=2)


@pytest.fixture
def read_audit(store: FakeStore) -> FakeReadAuditLog:
    return FakeReadAuditLog(store)


@pytest.fixture
def queries(store: FakeStore, read_audit: FakeReadAuditLog) -> FinanceQueries:
    return FinanceQueries(uow_factory=store.uow, audit_log=read_audit)


@pytest.mark.parametrize("view", READS)
async def test_each_read_writes_one_sensitive_read_entry(
    store: FakeStore, queries: FinanceQueries, mine: Account, theirs: Account, view: str
) -> None:
    before = dict(store.accounts), dict(store.transactions)
    (await READS[view](queries, mine)).unwrap()
    [entry] = store.audit_log
    assert (entry.action, entry.outcome) == (
        AuditAction.FINANCIAL_DATA_READ,
        AuditOutcome.SUCCEEDED,
    )
    assert entry.metadata["view"] == view.removesuffix("_of_account")
    assert entry.ip_address == CONTEXT.ip_address
    assert (dict(store.accounts), dict(store.transactions)) == before  # reads write nothing else
    assert store.outbox == []


async def test_reads_return_the_owners_data_only(
    store: FakeStore, queries: FinanceQueries, mine: Account, theirs: Account
) -> None:
    [connection] = (await queries.connections(OWNER, CONTEXT)).unwrap()
    assert connection.id == mine.connection_id
    assert [a.id for a in (await queries.accounts(OWNER, CONTEXT)).unwrap()] == [mine.id]
    assert (await queries.account(OWNER, mine.id, CONTEXT)).unwrap() == mine
    account, history = (await queries.balance_history(OWNER, mine.id, CONTEXT)).unwrap()
    assert (account, [s.balance for s in history]) == (mine, [Decimal("10")])
    found = (await queries.transactions(search())).unwrap()
    assert {t.account_id for t in found} == {mine.id}
    assert len(found) == 3
    entries = store.audit_entries(action=AuditAction.FINANCIAL_DATA_READ)
    assert [(e.resource_type, e.resource_id) for e in entries] == [
        (ResourceType.PROVIDER_CONNECTION, None),
        (ResourceType.ACCOUNT, None),
        (ResourceType.ACCOUNT, mine.id),
        (ResourceType.ACCOUNT, mine.id),
        (ResourceType.TRANSACTION, None),
    ]
    assert entries[1].metadata["count"] == 1
    assert entries[4].metadata["count"] == 3


@pytest.mark.parametrize("view", ["account", "balance_history", "transactions_of_account"])
async def test_another_users_account_is_not_found(
    store: FakeStore, queries: FinanceQueries, mine: Account, theirs: Account, view: str
) -> None:
    for target in (theirs, replace(mine, id=new_id())):  # another user's, an unknown id
        error = error_of(await READS[view](queries, target))
        assert isinstance(error, NotFoundError)
        assert error.message == "account not found"
    assert store.audit_entries(outcome=AuditOutcome.SUCCEEDED) == []


async def test_the_page_size_is_clamped(store: FakeStore, queries: FinanceQueries) -> None:
    account = await seed_account(store, seed_connection(store), transactions=12)
    assert len((await queries.transactions(search(limit=0))).unwrap()) == 1
    assert len((await queries.transactions(search(limit=-5))).unwrap()) == 1
    assert len((await queries.transactions(search(limit=10_000), max_limit=5)).unwrap()) == 5
    first = (await queries.transactions(search(limit=5))).unwrap()
    after = TransactionCursor(first[-1].posted_on, first[-1].id)
    query = TransactionQuery(user_id=OWNER, account_id=account.id)
    rest = await queries.transactions(
        SearchTransactions(query=query, after=after, limit=50, context=CONTEXT)
    )
    assert {t.id for t in first}.isdisjoint({t.id for t in rest.unwrap()})
    assert len(first) + len(rest.unwrap()) == 12


async def test_a_read_whose_audit_record_is_refused_fails(
    store: FakeStore, queries: FinanceQueries, read_audit: FakeReadAuditLog, mine: Account
) -> None:
    refusal = DatabaseUnavailableError("audit records cannot be written now")
    store.faults.fail_next("read_audit.record", refusal)
    assert error_of(await queries.accounts(OWNER, CONTEXT)) == refusal
    store.faults.fail_next("accounts.list_for_user", DatabaseError("db down"))
    assert isinstance(error_of(await queries.net_worth(OWNER, CONTEXT)), DatabaseError)
    assert read_audit.accepted == []
    assert store.audit_log == []


@pytest.mark.parametrize("view", READS)
async def test_a_read_hands_its_record_to_the_read_audit_log_and_commits_nothing(
    store: FakeStore, mine: Account, view: str
) -> None:
    read_audit = FakeReadAuditLog(store, auto_flush=False)
    queries = FinanceQueries(uow_factory=store.uow, audit_log=read_audit)
    commits_before = store.commits
    (await READS[view](queries, mine)).unwrap()
    [entry] = read_audit.pending
    assert (entry.action, entry.outcome) == (
        AuditAction.FINANCIAL_DATA_READ,
        AuditOutcome.SUCCEEDED,
    )
    assert store.commits == commits_before
    assert store.audit_log == []  # written by the log's flush, not by the read
    assert read_audit.flush() == 1
    assert [e.id for e in store.audit_log] == [entry.id]


async def test_a_commit_failure_elsewhere_does_not_fail_a_read(
    store: FakeStore, queries: FinanceQueries, mine: Account
) -> None:
    # Defect 5: a read used to commit its record, so a busy writer failed it (409).
    store.fail_next_commit(DatabaseError("database is busy", code="concurrent_update"))
    assert [a.id for a in (await queries.accounts(OWNER, CONTEXT)).unwrap()] == [mine.id]
    assert len(store.audit_entries(action=AuditAction.FINANCIAL_DATA_READ)) == 1


@pytest.mark.parametrize("view", ["account", "balance_history", "transactions_of_account"])
async def test_a_probe_for_another_users_account_is_recorded_as_failed_not_as_a_read(
    store: FakeStore, mine: Account, theirs: Account, view: str
) -> None:
    read_audit = FakeReadAuditLog(store)
    queries = FinanceQueries(uow_factory=store.uow, audit_log=read_audit)
    error_of(await READS[view](queries, theirs))
    [entry] = store.audit_log
    assert (entry.outcome, entry.reason, entry.resource_id) == (
        AuditOutcome.FAILED,
        "not_found",
        theirs.id,
    )
    assert read_audit.accepted == []


async def test_net_worth_reads_the_owners_balances(
    store: FakeStore, queries: FinanceQueries, mine: Account, theirs: Account
) -> None:
    card = await seed_account(
        store, seed_connection(store), "CARD", account_type=AccountType.CREDIT_CARD, balance="4"
    )
    assert card.user_id == OWNER
    totals = (await queries.net_worth(OWNER, CONTEXT)).unwrap()
    assert totals == [CurrencyTotals(currency="USD", assets=Decimal(10), liabilities=Decimal(-4))]


# --- net_worth_by_currency ----------------------------------------------------------------


def account(kind: AccountType, balance: str | None, currency: str = "USD") -> Account:
    return Account(
        user_id=OWNER,
        connection_id=new_id(),
        provider_account_id="1",
        name="x",
        account_type=kind,
        currency=currency,
        balance=Decimal(balance) if balance is not None else None,
    )


def test_net_worth_sums_per_currency_without_conversion() -> None:
    totals = net_worth_by_currency(
        [
            account(AccountType.CHECKING, "100.10", "USD"),
            account(AccountType.SAVINGS, "900", "EUR"),
            account(AccountType.BROKERAGE, "-0.10", "USD"),
            account(AccountType.OTHER, "5", "GBP"),
            account(AccountType.LOAN, "250", "EUR"),
        ]
    )
    assert totals == [
        CurrencyTotals(currency="EUR", assets=Decimal("900"), liabilities=Decimal("-250")),
        CurrencyTotals(currency="GBP", assets=Decimal("5"), liabilities=Decimal("0")),
        CurrencyTotals(currency="USD", assets=Decimal("100.00"), liabilities=Decimal("0")),
    ]
    assert [t.net_worth for t in totals] == [Decimal("650"), Decimal("5"), Decimal("100.00")]


@pytest.mark.parametrize("balance", ["500", "-500"])
def test_a_liability_always_lowers_net_worth_whatever_its_sign(balance: str) -> None:
    [totals] = net_worth_by_currency(
        [account(AccountType.CHECKING, "800"), account(AccountType.CREDIT_CARD, balance)]
    )
    assert (totals.assets, totals.liabilities, totals.net_worth) == (
        Decimal("800"),
        Decimal("-500"),
        Decimal("300"),
    )


def test_accounts_without_a_balance_are_ignored() -> None:
    totals = net_worth_by_currency(
        [
            account(AccountType.CHECKING, None, "JPY"),
            account(AccountType.LOAN, None, "USD"),
            account(AccountType.SAVINGS, "1", "USD"),
        ]
    )
    assert totals == [CurrencyTotals(currency="USD", assets=Decimal(1), liabilities=Decimal(0))]
    assert net_worth_by_currency([]) == []
