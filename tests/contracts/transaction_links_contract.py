"""The reconciling half of the ``TransactionRepository`` port: look-ups near a date, pending rows
absorbed in place, transfer links. Run on the fakes and both databases by
``test_finance_repositories``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from decimal import Decimal

from dashtam.core.ids import new_id
from dashtam.domain.accounts.entities import Account
from dashtam.domain.transactions.entities import Transaction, TransactionStatus
from dashtam.domain.transactions.repository import (
    PendingReplacement,
    TransactionQuery,
    TransferFilter,
)
from tests.contracts.finance_contract import DAY, account_data, add_account, add_owner, tx
from tests.contracts.harness import Harness
from tests.contracts.repositories import Repositories
from tests.contracts.transaction_contract import everything, owned_account, upsert
from tests.contracts.user_repository_contract import error_of

PENDING = TransactionStatus.PENDING


async def two_accounts(repositories: Repositories) -> tuple[Account, Account]:
    user_id, connection_id = await add_owner(repositories)
    checking = await add_account(repositories, account_data(user_id, connection_id, "CHK"))
    savings = await add_account(repositories, account_data(user_id, connection_id, "SAV"))
    return checking, savings


def keys(rows: Iterable[Transaction]) -> list[str]:
    return [t.provider_transaction_id for t in rows]


class TransactionLinksContract:
    async def test_in_window_reads_one_status_of_one_account_between_two_days(
        self, harness: Harness[Repositories]
    ) -> None:
        checking, savings = await two_accounts(harness.adapter)
        await upsert(
            harness.adapter,
            checking,
            tx("p3", day=3, status=PENDING),
            tx("p5", day=5, status=PENDING),
            tx("p9", day=9, status=PENDING),
            tx("x5", day=5),
        )
        await upsert(harness.adapter, savings, tx("other", day=5, status=PENDING))
        transactions = (await harness.reopen()).transactions
        found = await transactions.in_window(
            checking.id, status=PENDING, start=date(2024, 11, 3), end=date(2024, 11, 5)
        )
        assert keys(found.unwrap()) == ["p3", "p5"]
        posted = await transactions.in_window(
            checking.id,
            status=TransactionStatus.POSTED,
            start=date(2024, 11, 1),
            end=DAY[29].date(),
        )
        assert keys(posted.unwrap()) == ["x5"]

    async def test_by_provider_ids_reads_the_accounts_rows_only(
        self, harness: Harness[Repositories]
    ) -> None:
        checking, savings = await two_accounts(harness.adapter)
        await upsert(harness.adapter, checking, tx("a"), tx("b"))
        await upsert(harness.adapter, savings, tx("a"))
        transactions = (await harness.reopen()).transactions
        found = (await transactions.by_provider_ids(checking.id, ["a", "zz"])).unwrap()
        assert [(t.account_id, t.provider_transaction_id) for t in found] == [(checking.id, "a")]
        assert (await transactions.by_provider_ids(checking.id, [])).unwrap() == []

    async def test_a_pending_row_absorbs_its_posted_form_and_keeps_its_id_and_link(
        self, harness: Harness[Repositories]
    ) -> None:
        checking, savings = await two_accounts(harness.adapter)
        transactions = harness.adapter.transactions
        pending = tx("p1", "-40.00", 3, status=PENDING, description="SQ *CAFE")
        (
            await transactions.upsert_batch(checking.id, "USD", [pending], statement_as_of=DAY[3])
        ).unwrap()
        await upsert(harness.adapter, savings, tx("other", "40.00", 3))
        stored = await everything(harness.adapter, checking.user_id)
        (await transactions.set_transfer_ids({stored["p1"].id: stored["other"].id})).unwrap()
        posted = replace(tx("X-77", "-46.00", 5, description="SQ *CAFE tip"), memo="tip")
        replacement = PendingReplacement(
            row_id=stored["p1"].id, posted=posted, statement_as_of=DAY[6]
        )
        repositories = await harness.reopen()
        assert (await repositories.transactions.absorb_pending([replacement])).unwrap() == 1
        assert (await repositories.transactions.absorb_pending([])).unwrap() == 0

        after = await everything(await harness.reopen(), checking.user_id)
        assert "p1" not in after
        row = after["X-77"]
        assert (row.id, row.transfer_id, row.created_at) == (
            stored["p1"].id,
            stored["other"].id,
            stored["p1"].created_at,
        )
        assert (row.amount, row.posted_on, row.status, row.memo, row.statement_as_of) == (
            Decimal("-46.00"),
            date(2024, 11, 5),
            TransactionStatus.POSTED,
            "tip",
            DAY[6],
        )

    async def test_absorbing_into_an_id_the_account_holds_is_refused(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await owned_account(harness.adapter)
        await upsert(harness.adapter, account, tx("p1", status=PENDING), tx("X"))
        repositories = await harness.reopen()
        stored = await everything(repositories, account.user_id)
        clash = PendingReplacement(row_id=stored["p1"].id, posted=tx("X", "-2.00"))
        error = error_of(await repositories.transactions.absorb_pending([clash]))
        assert error.code in {"duplicate", "conflict"}
        assert sorted(await everything(await harness.discard(), account.user_id)) == ["X", "p1"]

    async def test_transfer_candidates_are_the_users_free_posted_rows_near_those_amounts(
        self, harness: Harness[Repositories]
    ) -> None:
        checking, savings = await two_accounts(harness.adapter)
        theirs = await owned_account(harness.adapter, "other@example.com")
        await upsert(
            harness.adapter,
            checking,
            tx("out", "-500.5", 10),
            tx("early", "500.50", 1),
            tx("pending", "500.50", 10, status=PENDING),
            tx("other-amount", "500.51", 10),
        )
        await upsert(harness.adapter, savings, tx("in", "500.50", 11), tx("marked", "500.50", 12))
        await upsert(harness.adapter, theirs, tx("theirs", "500.50", 11))
        stored = await everything(harness.adapter, checking.user_id)
        marked = stored["marked"].id
        (await harness.adapter.transactions.set_transfer_ids({marked: marked})).unwrap()
        transactions = (await harness.reopen()).transactions
        found = await transactions.transfer_candidates(
            checking.user_id,
            amounts={Decimal("500.5"), Decimal("-500.50")},
            start=date(2024, 11, 4),
            end=date(2024, 11, 16),
        )
        assert keys(found.unwrap()) == ["out", "in"]
        none = await transactions.transfer_candidates(
            checking.user_id, amounts=set(), start=date(2024, 11, 1), end=date(2024, 11, 30)
        )
        assert none.unwrap() == []

    async def test_linking_is_both_ways_and_never_over_an_existing_link(
        self, harness: Harness[Repositories]
    ) -> None:
        checking, savings = await two_accounts(harness.adapter)
        await upsert(harness.adapter, checking, tx("out", "-5"), tx("out2", "-5"))
        await upsert(harness.adapter, savings, tx("in", "5"))
        rows = await everything(harness.adapter, checking.user_id)
        out, into = rows["out"].id, rows["in"].id
        linked = await harness.adapter.transactions.link_transfers([(out, into)])
        assert linked.unwrap() == 1
        after = await everything(await harness.reopen(), checking.user_id)
        assert (after["out"].transfer_id, after["in"].transfer_id) == (into, out)
        again = await harness.adapter.transactions.link_transfers([(rows["out2"].id, into)])
        assert error_of(again).code == "transfer_conflict"
        kept = await everything(await harness.discard(), checking.user_id)
        assert (kept["out2"].transfer_id, kept["in"].transfer_id) == (None, out)

    async def test_search_filters_transfers_and_a_self_link_is_not_one(
        self, harness: Harness[Repositories]
    ) -> None:
        checking, savings = await two_accounts(harness.adapter)
        await upsert(harness.adapter, checking, tx("out", "-5"), tx("rent", "-900"))
        await upsert(harness.adapter, savings, tx("in", "5"), tx("marked", "7"))
        rows = await everything(harness.adapter, checking.user_id)
        out, into, marked = rows["out"].id, rows["in"].id, rows["marked"].id
        (
            await harness.adapter.transactions.set_transfer_ids(
                {out: into, into: out, marked: marked}
            )
        ).unwrap()
        repositories = await harness.reopen()

        async def listed(wanted: TransferFilter) -> list[str]:
            query = TransactionQuery(user_id=checking.user_id, transfers=wanted)
            found = await repositories.transactions.search(query, after=None, limit=50)
            return sorted(keys(found.unwrap()))

        assert await listed(TransferFilter.INCLUDE) == ["in", "marked", "out", "rent"]
        assert await listed(TransferFilter.ONLY) == ["in", "out"]
        assert await listed(TransferFilter.EXCLUDE) == ["marked", "rent"]

    async def test_get_owned_answers_the_owner_only(self, harness: Harness[Repositories]) -> None:
        mine = await owned_account(harness.adapter)
        theirs = await owned_account(harness.adapter, "other@example.com")
        await upsert(harness.adapter, mine, tx("a"))
        repositories = await harness.reopen()
        [row] = (await everything(repositories, mine.user_id)).values()
        found = await repositories.transactions.get_owned(mine.user_id, row.id)
        assert isinstance(found.unwrap(), Transaction)
        assert found.unwrap() == row
        assert (await repositories.transactions.get_owned(theirs.user_id, row.id)).unwrap() is None
        assert (await repositories.transactions.get_owned(mine.user_id, new_id())).unwrap() is None

    async def test_deleting_one_side_frees_the_other(self, harness: Harness[Repositories]) -> None:
        checking, savings = await two_accounts(harness.adapter)
        await upsert(harness.adapter, checking, tx("out", "-5"))
        await upsert(harness.adapter, savings, tx("in", "5"))
        rows = await everything(harness.adapter, checking.user_id)
        pair = (rows["out"].id, rows["in"].id)
        (await harness.adapter.transactions.link_transfers([pair])).unwrap()
        repositories = await harness.reopen()
        (await repositories.accounts.delete(savings.id)).unwrap()
        after = await everything(await harness.reopen(), checking.user_id)
        assert sorted(after) == ["out"]
        assert after["out"].transfer_id is None  # ON DELETE SET NULL
