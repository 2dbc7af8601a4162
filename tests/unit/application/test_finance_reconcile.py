"""Imports that settle what the bank shows twice: a pending row that posts, and transfers
between the owner's own accounts (ImportStatementHandler with ImportReconciler, on fakes)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from uuid import UUID

import pytest

from dashtam.application.finance.commands import ImportReport, ImportStatement
from dashtam.application.finance.imports import ImportStatementHandler
from dashtam.core.errors import ConflictError, Error
from dashtam.core.result import Result
from dashtam.domain.accounts.entities import AccountType
from dashtam.domain.transactions.entities import Transaction, TransactionStatus
from tests.fakes import FakeClock, FakeStore, RecordingLogger
from tests.unit.application.conftest import CONTEXT
from tests.unit.application.finance_support import (
    OWNER,
    STRANGER,
    PartResult,
    ScriptedParser,
    ScriptedParsers,
    part,
    seed_account,
    seed_connection,
    tx,
)
from tests.unit.application.support import error_of

PENDING = TransactionStatus.PENDING
SAVINGS = "SAV-42"


async def run(store: FakeStore, *parts: PartResult, user_id: UUID = OWNER) -> ImportReport:
    result = await attempt(store, *parts, user_id=user_id)
    return result.unwrap()


async def attempt(
    store: FakeStore, *parts: PartResult, user_id: UUID = OWNER
) -> Result[ImportReport, Error]:
    connection = next(c for c in store.connections.values() if c.user_id == user_id)
    importer = ImportStatementHandler(
        uow_factory=store.uow,
        parsers=ScriptedParsers(ScriptedParser(list(parts))),
        logger=RecordingLogger(),
        batch_size=2,
        clock=FakeClock(),
    )
    command = ImportStatement(
        user_id=user_id, connection_id=connection.id, data=b"OFX", context=CONTEXT
    )
    return await importer.handle(command)


def counts(report: ImportReport) -> tuple[int, int, int]:
    return (report.transactions_new, report.transactions_updated, report.transactions_unchanged)


def rows(store: FakeStore) -> dict[str, Transaction]:
    return {t.provider_transaction_id: t for t in store.transactions.values()}


def savings(*transactions: object) -> PartResult:
    return part(*transactions, number=SAVINGS, account_type=AccountType.SAVINGS)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def connection(store: FakeStore) -> None:
    seed_connection(store)


# --- pending, then posted ------------------------------------------------------------------


async def test_the_posted_form_replaces_the_pending_row_in_place(store: FakeStore) -> None:
    first = await run(store, part(tx("p-1", "-40.00", 3, status=PENDING, description="SQ *CAFE")))
    assert counts(first) == (1, 0, 0)
    [pending] = store.transactions.values()

    posted = replace(tx("X-1", "-46.00", 5, description="Sq *Cafe"), memo="tip")
    report = await run(store, part(posted, tx("other", "-9.00", 5)))

    assert counts(report) == (1, 1, 0)
    stored = rows(store)
    assert sorted(stored) == ["X-1", "other"]
    absorbed = stored["X-1"]
    assert (absorbed.id, absorbed.status, absorbed.amount, absorbed.memo) == (
        pending.id,
        TransactionStatus.POSTED,
        Decimal("-46.00"),
        "tip",
    )
    assert (absorbed.posted_on.day, absorbed.description) == (5, "Sq *Cafe")


async def test_pending_posted_and_pending_again_leave_one_posted_row(store: FakeStore) -> None:
    pending_file = part(
        tx("p-1", "-12.00", 3, status=PENDING), tx("p-2", "-7.00", 4, status=PENDING)
    )
    posted_file = part(tx("X-1", "-12.00", 4), tx("X-2", "-7.00", 6))
    await run(store, pending_file)
    ids = {t.provider_transaction_id: t.id for t in store.transactions.values()}
    assert counts(await run(store, posted_file)) == (0, 2, 0)

    assert counts(await run(store, posted_file)) == (0, 0, 2)  # idempotent
    again = await run(store, pending_file)

    assert counts(again) == (0, 0, 2)  # each one stands for a posted row: not resurrected
    assert {k: (t.id, t.status) for k, t in rows(store).items()} == {
        "X-1": (ids["p-1"], TransactionStatus.POSTED),
        "X-2": (ids["p-2"], TransactionStatus.POSTED),
    }
    assert counts(await run(store, posted_file)) == (0, 0, 2)


async def test_a_pending_row_the_file_still_lists_stays_pending(store: FakeStore) -> None:
    await run(store, part(tx("p-1", "-12.00", 3, status=PENDING)))
    # The file lists both, the pending one in a later batch: a different purchase.
    report = await run(
        store, part(tx("X-1", "-12.00", 4)), part(tx("p-1", "-12.00", 3, status=PENDING))
    )
    assert counts(report) == (1, 0, 1)
    assert {k: t.status for k, t in rows(store).items()} == {
        "p-1": PENDING,
        "X-1": TransactionStatus.POSTED,
    }


async def test_a_posted_row_the_file_lists_twice_is_written_as_its_last_occurrence(
    store: FakeStore,
) -> None:
    await run(store, part(tx("p-1", "-12.00", 3, status=PENDING)))
    report = await run(
        store,
        part(tx("X-1", "-12.00", 4), tx("a", "-1", 1)),
        part(tx("X-1", "-12.50", 4, description="tx p-1")),  # corrected in the same file
    )
    assert counts(report) == (1, 1, 0)
    assert rows(store)["X-1"].amount == Decimal("-12.50")
    assert "p-1" not in rows(store)


async def test_the_closest_pending_row_is_taken_and_each_only_once(store: FakeStore) -> None:
    await run(
        store,
        part(
            tx("p-far", "-3.50", 1, status=PENDING, description="Coffee"),
            tx("p-near", "-3.50", 4, status=PENDING, description="Coffee"),
        ),
    )
    near_id = rows(store)["p-near"].id
    report = await run(store, part(tx("X-1", "-3.50", 5, description="Coffee")))
    assert counts(report) == (0, 1, 0)
    assert rows(store)["X-1"].id == near_id
    assert rows(store)["p-far"].status is PENDING
    report = await run(store, part(tx("X-2", "-3.50", 6, description="Coffee")))
    assert counts(report) == (0, 1, 0)  # the far one, 5 days before: within 7
    assert sorted(rows(store)) == ["X-1", "X-2"]


async def test_out_of_window_other_account_or_other_amount_is_a_new_row(
    store: FakeStore,
) -> None:
    await run(
        store,
        part(tx("p-1", "-20.00", 10, status=PENDING, description="Shop")),
        savings(tx("s-p", "-30.00", 10, status=PENDING, description="Shop")),
    )
    report = await run(
        store,
        part(
            tx("too-early", "-20.00", 6, description="Shop"),  # 4 days before the pending row
            tx("other-text", "-21.00", 11, description="Elsewhere"),
        ),
        part(tx("too-late", "-20.00", 18, description="Shop")),  # 8 days after
        part(tx("wrong-account", "-30.00", 11, description="Shop")),
    )
    assert counts(report) == (4, 0, 0)
    assert {t.status for k, t in rows(store).items() if k in {"p-1", "s-p"}} == {PENDING}


# --- transfers -----------------------------------------------------------------------------


def linked(store: FakeStore) -> dict[str, str | None]:
    by_id = {t.id: t.provider_transaction_id for t in store.transactions.values()}
    return {
        t.provider_transaction_id: by_id.get(t.transfer_id) if t.transfer_id else None
        for t in store.transactions.values()
    }


async def test_a_transfer_in_one_file_is_linked_both_ways(store: FakeStore) -> None:
    await run(store, part(tx("out", "-500.00", 2), tx("rent", "-900")), savings(tx("in", "500", 3)))
    assert linked(store) == {"out": "in", "in": "out", "rent": None}


async def test_the_other_side_imported_later_is_linked_then(store: FakeStore) -> None:
    await run(store, part(tx("out", "-500.00", 2)))
    assert linked(store) == {"out": None}
    await run(store, savings(tx("in", "500.00", 5)))
    assert linked(store) == {"out": "in", "in": "out"}
    await run(store, savings(tx("in", "500.00", 5)))  # again: nothing moves
    assert linked(store) == {"out": "in", "in": "out"}


async def test_a_re_import_that_changes_nothing_looks_for_no_transfers(store: FakeStore) -> None:
    await run(store, part(tx("out", "-500.00", 2), tx("rent", "-900", 4)), savings(tx("x", "9", 3)))
    # Unchanged rows were looked at when written; reading them again would only find the same.
    store.faults.fail_next(
        "transactions.by_provider_ids", ConflictError("read", code="should_not_be_read")
    )
    report = await run(store, part(tx("out", "-500.00", 2), tx("rent", "-900", 4)))
    assert counts(report) == (0, 0, 2)


async def test_a_row_a_re_import_corrects_is_linked_then(store: FakeStore) -> None:
    await run(store, part(tx("out", "-500.00", 2)), savings(tx("in", "450.00", 3)))
    assert linked(store) == {"out": None, "in": None}
    report = await run(store, savings(tx("in", "500.00", 3)))  # the bank corrected the amount
    assert counts(report) == (0, 1, 0)
    assert linked(store) == {"out": "in", "in": "out"}


async def test_ambiguous_pending_or_another_users_rows_are_not_linked(store: FakeStore) -> None:
    stranger = seed_connection(store, user_id=STRANGER)
    await seed_account(store, stranger, "THEIRS")
    await run(store, part(tx("theirs", "75.00", 2)), user_id=STRANGER)
    await run(
        store,
        part(tx("out", "-100.00", 5), tx("hold", "-75.00", 2, status=PENDING)),
        savings(tx("in-a", "100.00", 4), tx("in-b", "100.00", 6), tx("in-75", "75.00", 2)),
    )
    assert set(linked(store).values()) == {None}


async def test_a_link_the_owner_removed_is_not_made_again(store: FakeStore) -> None:
    await run(store, part(tx("out", "-500.00", 2)), savings(tx("in", "500.00", 3)))
    for row in list(store.transactions.values()):
        store.transactions[row.id] = replace(row, transfer_id=row.id)  # "not a transfer"
    await run(store, part(tx("out", "-500.00", 2)), savings(tx("in", "500.00", 3)))
    assert all(t.transfer_id == t.id for t in store.transactions.values())


async def test_a_failed_link_rolls_the_whole_import_back(store: FakeStore) -> None:
    store.faults.fail_next(
        "transactions.link_transfers", ConflictError("linked meanwhile", code="transfer_conflict")
    )
    result = await attempt(store, part(tx("out", "-5", 2)), savings(tx("in", "5", 2)))
    assert error_of(result).code == "transfer_conflict"
    assert (store.accounts, store.transactions) == ({}, {})
