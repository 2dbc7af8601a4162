"""The ``TransactionRepository`` contract, written once; ``test_finance_repositories`` runs it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from dashtam.core.errors import DomainError
from dashtam.core.ids import new_id
from dashtam.core.result import Success
from dashtam.domain.accounts.entities import Account
from dashtam.domain.imports.statement import ParsedTransaction
from dashtam.domain.transactions.entities import Transaction, TransactionStatus
from dashtam.domain.transactions.repository import TransactionCursor, TransactionQuery
from tests.contracts.finance_contract import account_data, add_account, add_owner, fitids, tx
from tests.contracts.harness import Harness
from tests.contracts.repositories import Repositories
from tests.contracts.user_repository_contract import error_of


async def upsert(
    repositories: Repositories, account: Account, *items: ParsedTransaction
) -> tuple[int, int, int]:
    counts = (await repositories.transactions.upsert_batch(account.id, "USD", items)).unwrap()
    return (counts.new, counts.updated, counts.unchanged)


async def owned_account(repositories: Repositories, email: str = "owner@example.com") -> Account:
    return await add_account(repositories, account_data(*await add_owner(repositories, email)))


async def everything(repositories: Repositories, user_id: UUID) -> dict[str, Transaction]:
    query = TransactionQuery(user_id=user_id)
    found = (await repositories.transactions.search(query, after=None, limit=1000)).unwrap()
    return {t.provider_transaction_id: t for t in found}


class TransactionRepositoryContract:
    @pytest.fixture
    def harness(self) -> Harness[Repositories]:
        raise NotImplementedError

    async def test_upsert_batch_counts_new_updated_and_unchanged(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await owned_account(harness.adapter)
        first = [tx("a"), tx("b"), tx("c", status=TransactionStatus.PENDING)]
        assert await upsert(harness.adapter, account, *first) == (3, 0, 0)
        assert await upsert(harness.adapter, account) == (0, 0, 0)
        repositories = await harness.reopen()
        assert await upsert(repositories, account, *first) == (0, 0, 3)
        changed = [
            tx("a", "-1.0000"),  # the same amount, written differently: unchanged
            replace(tx("b"), memo="corrected"),
            tx("c", "-2.00", 4, status=TransactionStatus.POSTED),
            tx("d"),
        ]
        assert await upsert(repositories, account, *changed) == (1, 2, 1)
        before = await everything(repositories, account.user_id)

        stored = await everything(await harness.reopen(), account.user_id)
        assert sorted(stored) == ["a", "b", "c", "d"]
        assert stored == before
        assert stored["b"].memo == "corrected"
        assert (stored["c"].amount, stored["c"].posted_on, stored["c"].status) == (
            Decimal("-2.00"),
            date(2024, 11, 4),
            TransactionStatus.POSTED,
        )
        assert all(t.currency == "USD" and t.account_id == account.id for t in stored.values())

    async def test_written_receives_the_ids_inserted_or_updated_only(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await owned_account(harness.adapter)
        newer, older = datetime(2024, 12, 1, tzinfo=UTC), datetime(2024, 11, 1, tzinfo=UTC)
        transactions = harness.adapter.transactions
        first: set[str] = set()
        batch = [tx("same"), tx("fixed"), tx("kept", "-3")]
        (await transactions.upsert_batch(account.id, "USD", batch, written=first)).unwrap()
        assert first == {"same", "fixed", "kept"}
        corrected = [tx("kept", "-3.50")]  # by a newer statement, which a later file must not undo
        (
            await transactions.upsert_batch(account.id, "USD", corrected, statement_as_of=newer)
        ).unwrap()
        again: set[str] = {"from before"}
        batch = [tx("same"), tx("fixed", "-9"), tx("kept", "-4"), tx("added")]
        counts = await transactions.upsert_batch(
            account.id, "USD", batch, statement_as_of=older, written=again
        )
        assert (counts.unwrap().new, counts.unwrap().updated, counts.unwrap().outdated) == (1, 1, 1)
        # Added to, never replaced; the unchanged and the outdated rows are not in it.
        assert again == {"from before", "fixed", "added"}

    async def test_the_last_occurrence_of_a_repeated_id_wins(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await owned_account(harness.adapter)
        batch = [tx("e", "1"), tx("f"), tx("e", "2", description="second")]
        assert await upsert(harness.adapter, account, *batch) == (2, 0, 0)
        assert await upsert(harness.adapter, account, tx("e", "3"), batch[-1]) == (0, 0, 1)
        stored = await everything(await harness.reopen(), account.user_id)
        assert (stored["e"].amount, stored["e"].description) == (Decimal("2"), "second")

    async def test_a_stored_row_keeps_its_id_and_currency(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await owned_account(harness.adapter)
        batch = [tx("a")]
        (await harness.adapter.transactions.upsert_batch(account.id, "EUR", batch)).unwrap()
        [original] = (await everything(harness.adapter, account.user_id)).values()
        repositories = await harness.reopen()
        counts = await repositories.transactions.upsert_batch(account.id, "USD", [tx("a", "5")])
        assert counts.unwrap().updated == 1
        [stored] = (await everything(await harness.reopen(), account.user_id)).values()
        assert (stored.id, stored.currency, stored.amount) == (original.id, "EUR", Decimal("5"))

    async def test_amounts_are_exact_and_a_fifth_decimal_place_is_refused(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await owned_account(harness.adapter)
        extremes = ["-0.0001", "0.0001", "99999999999.9999", "-99999999999.9999", "0", "-7"]
        items = [tx(f"x{n}", text) for n, text in enumerate(extremes)]
        assert await upsert(harness.adapter, account, *items) == (len(items), 0, 0)
        repositories = await harness.reopen()
        stored = await everything(repositories, account.user_id)
        for n, text in enumerate(extremes):
            assert str(stored[f"x{n}"].amount) == str(Decimal(text).quantize(Decimal("0.0001")))
        assert await upsert(repositories, account, *items) == (0, 0, len(items))
        refused = error_of(
            await repositories.transactions.upsert_batch(account.id, "USD", [tx("tiny", "0.00001")])
        )
        assert refused.code == "database_error"
        assert "tiny" not in await everything(await harness.discard(), account.user_id)

    async def test_a_batch_for_an_unknown_account_is_refused(
        self, harness: Harness[Repositories]
    ) -> None:
        error = error_of(
            await harness.adapter.transactions.upsert_batch(new_id(), "USD", [tx("a")])
        )
        assert not isinstance(error, DomainError)
        assert error.code == "integrity_error"

    async def test_search_applies_every_filter(self, harness: Harness[Repositories]) -> None:
        user_id, connection_id = await add_owner(harness.adapter)
        first = await add_account(harness.adapter, account_data(user_id, connection_id, "A"))
        second = await add_account(harness.adapter, account_data(user_id, connection_id, "B"))
        await upsert(
            harness.adapter,
            first,
            tx("f1", "-10", 1, description="Coffee BEANS"),
            tx("f2", "25", 5, payee="Beanstalk Ltd"),
            tx("f3", "-99.99", 9, memo="for the bEaNs"),
            tx("f4", "0", 9, description="100% refund"),
            tx("f5", "5", 12, description="100 refund"),
            tx("f6", "7", 12, description="A_B"),
            tx("f7", "8", 12, description="AxB"),
            tx("f8", "9", 12, description="back\\slash"),
        )
        await upsert(harness.adapter, second, tx("s1", "-1", 5), tx("s2", "2", 6, memo="beans"))
        repositories = await harness.reopen()

        async def ids(**kw: Any) -> list[str]:
            return await fitids(repositories, user_id, **kw)

        assert await ids() == ["f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "s1", "s2"]
        assert await ids(account_id=second.id) == ["s1", "s2"]
        assert await ids(account_id=new_id()) == []
        days = {"posted_from": date(2024, 11, 5), "posted_to": date(2024, 11, 9)}
        assert await ids(**days) == ["f2", "f3", "f4", "s1", "s2"]
        assert await ids(posted_from=date(2024, 11, 12)) == ["f5", "f6", "f7", "f8"]
        assert await ids(posted_to=date(2024, 11, 1)) == ["f1"]
        assert await ids(min_amount=Decimal("7"), max_amount=Decimal("25")) == [
            "f2",
            "f6",
            "f7",
            "f8",
        ]
        assert await ids(max_amount=Decimal("-10")) == ["f1", "f3"]
        assert await ids(min_amount=Decimal("9.0001")) == ["f2"]
        assert await ids(text="BEAN") == ["f1", "f2", "f3", "s2"]
        assert await ids(text="bean", account_id=first.id, max_amount=Decimal("0")) == ["f1", "f3"]
        assert await ids(text="%") == ["f4"]
        assert await ids(text="_") == ["f6"]
        assert await ids(text="0% r") == ["f4"]
        assert await ids(text="\\") == ["f8"]
        assert await ids(text="") == await ids()
        assert await ids(text="no such thing") == []

    async def test_text_search_folds_case_beyond_ascii(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await owned_account(harness.adapter)
        await upsert(harness.adapter, account, tx("u", description="CAFÉ ÜBER"), tx("a"))
        repositories = await harness.reopen()
        assert await fitids(repositories, account.user_id, text="café über") == ["u"]
        assert await fitids(repositories, account.user_id, text="É") == ["u"]

    async def test_another_users_rows_are_never_returned(
        self, harness: Harness[Repositories]
    ) -> None:
        mine = await owned_account(harness.adapter, "owner@example.com")
        theirs = await owned_account(harness.adapter, "other@example.com")
        await upsert(harness.adapter, mine, tx("m1", description="rent"))
        await upsert(harness.adapter, theirs, tx("t1", description="rent"), tx("t2"))
        repositories = await harness.reopen()
        assert await fitids(repositories, mine.user_id) == ["m1"]
        assert await fitids(repositories, mine.user_id, account_id=theirs.id) == []
        assert await fitids(repositories, mine.user_id, text="rent") == ["m1"]
        assert await fitids(repositories, theirs.user_id) == ["t1", "t2"]
        assert await fitids(repositories, new_id()) == []

    async def test_newest_first_and_the_cursor_walks_every_row_once(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await owned_account(harness.adapter)
        await upsert(harness.adapter, account, *(tx(f"t{n}", day=10 + n % 5) for n in range(23)))
        repositories = await harness.reopen()
        query = TransactionQuery(user_id=account.user_id)
        everything_at_once = (
            await repositories.transactions.search(query, after=None, limit=100)
        ).unwrap()
        keys = [(t.posted_on, t.id) for t in everything_at_once]
        assert keys == sorted(keys, reverse=True)
        assert len(keys) == 23
        assert (
            len((await repositories.transactions.search(query, after=None, limit=5)).unwrap()) == 5
        )

        seen: list[Transaction] = []
        after: TransactionCursor | None = None
        while page := (
            await repositories.transactions.search(query, after=after, limit=4)
        ).unwrap():
            assert len(page) <= 4
            seen.extend(page)
            after = TransactionCursor(page[-1].posted_on, page[-1].id)
            # Another import meanwhile: newer rows land before the cursor, older ones after it.
            await upsert(
                repositories, account, tx(f"new{len(seen)}", day=20), tx(f"old{len(seen)}", day=1)
            )
        ids = [t.provider_transaction_id for t in seen]
        assert len(ids) == len(set(ids))
        assert {f"t{n}" for n in range(23)} <= set(ids)
        assert not any(i.startswith("new") for i in ids)
        assert any(i.startswith("old") for i in ids)
        assert [(t.posted_on, t.id) for t in seen] == sorted(
            ((t.posted_on, t.id) for t in seen), reverse=True
        )
        middle = everything_at_once[10]
        cursor = TransactionCursor(middle.posted_on, middle.id)
        rest = (await repositories.transactions.search(query, after=cursor, limit=100)).unwrap()
        assert [t.id for t in rest][:12] == [t.id for t in everything_at_once[11:]]

    async def test_pages_merge_every_account_newest_first_under_each_filter(
        self, harness: Harness[Repositories]
    ) -> None:
        """Each page takes its rows from whichever accounts hold the newest, not the limit from
        each account in turn: three accounts interleave by day, with ties on one day."""
        user_id, connection_id = await add_owner(harness.adapter)
        accounts = [
            await add_account(harness.adapter, account_data(user_id, connection_id, number))
            for number in ("A", "B", "C")
        ]
        for index, account in enumerate(accounts):
            rows = [
                tx(f"{index}-{n}", f"{n - 10}", day=1 + (n * (index + 2)) % 19, memo=f"m{n % 3}")
                for n in range(25)
            ]
            await upsert(harness.adapter, account, *rows)
        await upsert(harness.adapter, await owned_account(harness.adapter, "other@example.com"))
        repositories = await harness.reopen()
        filters: list[dict[str, Any]] = [
            {},
            {"account_id": accounts[1].id},
            {"posted_from": date(2024, 11, 4), "posted_to": date(2024, 11, 15)},
            {"min_amount": Decimal("-3"), "max_amount": Decimal("9")},
            {"text": "M1"},
        ]
        for wanted in filters:
            query = TransactionQuery(user_id=user_id, **wanted)
            whole = (await repositories.transactions.search(query, after=None, limit=500)).unwrap()
            keys = [(t.posted_on, t.id) for t in whole]
            assert keys == sorted(keys, reverse=True), wanted
            assert len({t.account_id for t in whole}) == (1 if "account_id" in wanted else 3)
            walked: list[Transaction] = []
            after: TransactionCursor | None = None
            while page := (
                await repositories.transactions.search(query, after=after, limit=7)
            ).unwrap():
                walked.extend(page)
                after = TransactionCursor(page[-1].posted_on, page[-1].id)
            assert [t.id for t in walked] == [t.id for t in whole], wanted

    async def test_a_rolled_back_batch_leaves_nothing(self, harness: Harness[Repositories]) -> None:
        account = await owned_account(harness.adapter)
        repositories = await harness.reopen()
        assert await upsert(repositories, account, tx("a"), tx("b")) == (2, 0, 0)
        assert sorted(await everything(repositories, account.user_id)) == ["a", "b"]
        assert await everything(await harness.discard(), account.user_id) == {}
        assert await fitids(harness.adapter, account.user_id) == []
        assert await harness.adapter.transactions.search(
            TransactionQuery(user_id=account.user_id), after=None, limit=10
        ) == Success([])
