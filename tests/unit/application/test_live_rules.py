"""The rules of live sync, without a database: windows, backoff, answers to parts, outcomes."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

from dashtam.application.live import outcomes
from dashtam.application.live.parts import CUSTOM_CURRENCY, MergedSnapshot, fitted_id, sync_parts
from dashtam.application.live.policy import SyncPolicy
from dashtam.core.errors import Error, RateLimitedError, UpstreamError
from dashtam.domain.accounts.entities import AccountType
from dashtam.domain.providers.entities import ConnectionStatus, ProviderConnection, ProviderSlug
from dashtam.domain.providers.events import ConnectionNeedsAttention, SyncFailed
from dashtam.domain.providers.live import (
    SourceAccount,
    SourceHolding,
    SourceInstitution,
    SourceMessage,
    SourceSnapshot,
    SourceTransaction,
)
from dashtam.domain.transactions.entities import TransactionStatus

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
POLICY = SyncPolicy()


def _account(
    ident: str = "A-1",
    *,
    transactions: tuple[SourceTransaction, ...] = (),
    currency: str = "USD",
    holdings: tuple[SourceHolding, ...] = (),
) -> SourceAccount:
    return SourceAccount(
        id=ident,
        name="Checking",
        currency=currency,
        balance=Decimal("10.00"),
        balance_date=NOW - timedelta(hours=1),
        institution=SourceInstitution(name="Bank"),
        transactions=transactions,
        holdings=holdings,
    )


def _tx(ident: str, amount: str, *, days_ago: int = 1, pending: bool = False) -> SourceTransaction:
    when = NOW - timedelta(days=days_ago)
    return SourceTransaction(
        id=ident,
        amount=Decimal(amount),
        description="Shop",
        posted=None if pending else when,
        transacted_at=when if pending else None,
        pending=pending,
    )


def _connection(**fields: object) -> ProviderConnection:
    return ProviderConnection(
        user_id=uuid4(),
        provider=ProviderSlug.SIMPLEFIN,
        label="Bridge",
        **fields,  # type: ignore[arg-type]
    )


def test_the_first_sync_reaches_back_and_is_cut_in_windows_of_ninety_days() -> None:
    policy = SyncPolicy(first_days=200)
    start = policy.start(None, NOW)
    assert start == NOW - timedelta(days=200)
    windows = policy.windows(start, NOW)
    assert [end - begin for begin, end in windows] == [
        timedelta(days=90),
        timedelta(days=90),
        timedelta(days=20),
    ]
    assert windows[0][0] == start
    assert windows[-1][1] == NOW
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))


def test_later_syncs_overlap_the_last_success() -> None:
    last = NOW - timedelta(hours=4)
    assert POLICY.start(last, NOW) == last - timedelta(days=7)
    # A last success "in the future" (a clock that jumped back) never widens the gap.
    assert POLICY.start(NOW + timedelta(days=1), NOW) == NOW - timedelta(days=7)


def test_backoff_doubles_and_is_capped() -> None:
    waits = [POLICY.after_failure(NOW, failures) - NOW for failures in range(1, 10)]
    assert waits[:4] == [timedelta(minutes=m) for m in (5, 10, 20, 40)]
    assert waits[-1] == timedelta(hours=6)
    assert POLICY.next_budget_day(NOW) == datetime(2026, 3, 16, tzinfo=UTC)


def test_windows_merge_per_account_and_the_later_answer_wins() -> None:
    merged = MergedSnapshot()
    merged.add(SourceSnapshot(accounts=(_account(transactions=(_tx("T1", "-1.00"),)),)))
    merged.add(
        SourceSnapshot(
            accounts=(_account(transactions=(_tx("T1", "-1.50"), _tx("T2", "-2.00"))),),
            messages=(SourceMessage(message="Reauthenticate"),),
        )
    )
    merged.add(SourceSnapshot(accounts=(), messages=(SourceMessage(message="Reauthenticate"),)))
    parts = sync_parts(merged, as_of=NOW).parts
    (part,) = parts
    assert {t.provider_transaction_id: t.amount for t in part.transactions} == {
        "T1": Decimal("-1.50"),
        "T2": Decimal("-2.00"),
    }
    assert [m.message for m in merged.messages] == ["Reauthenticate"]
    assert part.account.statement_end == NOW
    assert part.account.account_type is AccountType.OTHER


def test_pending_rows_are_dated_when_they_happened_and_custom_currencies_skipped() -> None:
    merged = MergedSnapshot()
    merged.add(
        SourceSnapshot(
            accounts=(
                _account(transactions=(_tx("P1", "-3.00", days_ago=2, pending=True),)),
                _account("MILES", currency="https://example.com/miles"),
            )
        )
    )
    converted = sync_parts(merged, as_of=NOW)
    (part,) = converted.parts
    (row,) = part.transactions
    assert row.status is TransactionStatus.PENDING
    assert row.posted_on == date(2026, 3, 13)
    assert converted.skipped == {CUSTOM_CURRENCY: 1}


def test_holdings_make_an_investment_account_with_positions() -> None:
    holding = SourceHolding(
        id="H1",
        symbol="vti",
        description="Total market",
        shares=Decimal("4"),
        market_value=Decimal("1000.00"),
        cost_basis=Decimal("900"),
    )
    merged = MergedSnapshot()
    merged.add(SourceSnapshot(accounts=(_account(holdings=(holding,)),)))
    (part,) = sync_parts(merged, as_of=NOW).parts
    assert part.account.account_type is AccountType.BROKERAGE
    assert part.investment is not None
    (position,) = part.investment.positions
    assert position.security_id.unique_id == "VTI"
    assert position.unit_price == Decimal("250")
    assert [s.ticker for s in part.securities] == ["VTI"]


def test_long_source_ids_become_stable_digests_that_fit() -> None:
    long_id = "x" * 300
    fitted = fitted_id(long_id, 64)
    assert len(fitted) == 64
    assert fitted == fitted_id(long_id, 64)
    assert fitted != fitted_id("y" * 300, 64)
    assert fitted_id("short", 64) == "short"


def test_a_transient_failure_backs_off_and_keeps_the_status() -> None:
    connection = _connection(sync_failures=2)
    failed = outcomes.failed(
        connection, Error("The server failed.", code="bridge_unavailable"), now=NOW, policy=POLICY
    )
    assert isinstance(failed.error, UpstreamError)
    assert failed.error.code == "bridge_unavailable"
    assert failed.outcome.sync_failures == 3
    assert failed.outcome.next_sync_at == NOW + timedelta(minutes=20)
    assert failed.outcome.status == ConnectionStatus.ACTIVE.value
    (event,) = failed.events
    assert isinstance(event, SyncFailed)
    assert event.will_retry


def test_a_revoked_access_needs_the_user_once() -> None:
    connection = _connection()
    revoked = Error("refused", code="bridge_access_revoked")
    failed = outcomes.failed(connection, revoked, now=NOW, policy=POLICY)
    assert failed.outcome.status == ConnectionStatus.NEEDS_ATTENTION.value
    assert failed.outcome.next_sync_at == NOW + POLICY.interval
    assert [type(e) for e in failed.events] == [SyncFailed, ConnectionNeedsAttention]
    assert not failed.events[0].will_retry  # type: ignore[union-attr]
    # Already told: the next failure of the same kind does not announce it again.
    told = _connection(
        status=ConnectionStatus.NEEDS_ATTENTION, attention_message=failed.outcome.attention_message
    )
    assert [type(e) for e in outcomes.failed(told, revoked, now=NOW, policy=POLICY).events] == [
        SyncFailed
    ]


def test_an_exhausted_budget_waits_for_the_next_day_without_counting_a_failure() -> None:
    over = outcomes.over_budget(_connection(sync_failures=1), now=NOW, policy=POLICY)
    assert isinstance(over.error, RateLimitedError)
    assert over.error.retry_after_seconds == 12 * 3600
    assert over.outcome.sync_failures == 1
    assert over.outcome.next_sync_at == datetime(2026, 3, 16, tzinfo=UTC)
    assert over.events == ()


def test_a_success_clears_attention_or_sets_it_from_the_sources_messages() -> None:
    told = _connection(status=ConnectionStatus.NEEDS_ATTENTION, attention_message="Reauth")
    cleared, event = outcomes.succeeded(told, (), now=NOW, policy=POLICY)
    assert cleared.status == ConnectionStatus.ACTIVE.value
    assert cleared.attention_message is None
    assert event is None
    assert cleared.sync_failures == 0
    flagged, event = outcomes.succeeded(_connection(), ("Reauth",), now=NOW, policy=POLICY)
    assert flagged.status == ConnectionStatus.NEEDS_ATTENTION.value
    assert isinstance(event, ConnectionNeedsAttention)
