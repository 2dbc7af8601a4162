"""What a statement says beyond amounts: check numbers, references, available balances, and
which statement is newer. Run on the fakes and both databases by ``test_finance_repositories``.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from dashtam.domain.transactions.repository import UpsertCounts
from tests.contracts.finance_contract import DAY, account_data, add_owner, tx
from tests.contracts.harness import Harness
from tests.contracts.repositories import Repositories
from tests.contracts.transaction_contract import everything, owned_account


class StatementDetailsContract:
    async def test_an_older_statement_does_not_revert_a_newer_correction(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await owned_account(harness.adapter)
        transactions = harness.adapter.transactions
        newer = [tx("fee", "-25.00"), tx("coffee", "-3.50")]
        older = [tx("fee", "-35.00"), tx("coffee", "-3.50"), tx("early", "-1.00")]
        written = await transactions.upsert_batch(account.id, "USD", newer, statement_as_of=DAY[20])
        assert written.unwrap() == UpsertCounts(new=2)
        later = await (await harness.reopen()).transactions.upsert_batch(
            account.id, "USD", older, statement_as_of=DAY[10]
        )
        # The fee was corrected in the newer statement: kept. What only the old file has, added.
        assert later.unwrap() == UpsertCounts(new=1, outdated=2)
        stored = await everything(await harness.reopen(), account.user_id)
        assert stored["fee"].amount == Decimal("-25.00")
        assert stored["fee"].statement_as_of == DAY[20]
        assert stored["early"].statement_as_of == DAY[10]

    async def test_a_newer_or_undated_statement_updates_and_keeps_the_latest_date(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await owned_account(harness.adapter)
        transactions = harness.adapter.transactions
        await transactions.upsert_batch(account.id, "USD", [tx("a")], statement_as_of=DAY[10])
        newer = await transactions.upsert_batch(
            account.id, "USD", [tx("a", "-2.00")], statement_as_of=DAY[12]
        )
        assert newer.unwrap() == UpsertCounts(updated=1)
        undated = await transactions.upsert_batch(account.id, "USD", [tx("a", "-3.00")])
        assert undated.unwrap() == UpsertCounts(updated=1)  # a CSV export: no date to compare
        [stored] = (await everything(await harness.reopen(), account.user_id)).values()
        assert (stored.amount, stored.statement_as_of) == (Decimal("-3.00"), DAY[12])

    async def test_check_numbers_and_references_are_kept_and_compared(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await owned_account(harness.adapter)
        transactions = harness.adapter.transactions
        cheque = replace(tx("chk"), check_number="1042", reference="R-77")
        assert (await transactions.upsert_batch(account.id, "USD", [cheque])).unwrap().new == 1
        again = await transactions.upsert_batch(account.id, "USD", [cheque])
        assert again.unwrap() == UpsertCounts(unchanged=1)
        corrected = await transactions.upsert_batch(
            account.id, "USD", [replace(cheque, check_number="1043")]
        )
        assert corrected.unwrap() == UpsertCounts(updated=1)
        [stored] = (await everything(await harness.reopen(), account.user_id)).values()
        assert (stored.check_number, stored.reference) == ("1043", "R-77")

    async def test_the_available_balance_only_moves_forward_in_time(
        self, harness: Harness[Repositories]
    ) -> None:
        owner = await add_owner(harness.adapter)
        accounts = harness.adapter.accounts
        first = account_data(
            *owner, available_balance=Decimal("80.5"), available_balance_as_of=DAY[20]
        )
        created, _ = (await accounts.upsert(first)).unwrap()
        assert (created.available_balance, created.available_balance_as_of) == (
            Decimal("80.5"),
            DAY[20],
        )
        older = account_data(
            *owner, available_balance=Decimal("10"), available_balance_as_of=DAY[5]
        )
        kept, _ = (await (await harness.reopen()).accounts.upsert(older)).unwrap()
        assert (kept.available_balance, kept.balance) == (Decimal("80.5"), None)
        newer = account_data(
            *owner, available_balance=Decimal("12"), available_balance_as_of=DAY[25]
        )
        moved, _ = (await harness.adapter.accounts.upsert(newer)).unwrap()
        assert moved.available_balance == Decimal("12")
