"""Link and unlink transfers by hand: owned rows only, audited, and sticky against imports."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest

from dashtam.application.finance.transfers import (
    LinkTransfer,
    LinkTransferHandler,
    UnlinkTransfer,
    UnlinkTransferHandler,
)
from dashtam.core.errors import Error
from dashtam.core.ids import new_id
from dashtam.core.result import Result
from dashtam.domain.accounts.entities import Account
from dashtam.domain.audit import AuditAction, AuditOutcome
from dashtam.domain.transactions.entities import Transaction
from tests.fakes import FakeStore
from tests.unit.application.conftest import CONTEXT
from tests.unit.application.finance_support import OWNER, STRANGER, seed_account, seed_connection
from tests.unit.application.support import error_of

LINKED = AuditAction.TRANSACTION_TRANSFER_LINKED
UNLINKED = AuditAction.TRANSACTION_TRANSFER_UNLINKED


def put(store: FakeStore, account: Account, amount: str, **kw: object) -> Transaction:
    row = Transaction(
        account_id=account.id,
        provider_transaction_id=f"t{len(store.transactions)}",
        amount=Decimal(amount),
        posted_on=date(2025, 4, 2),
        description="transfer",
        **{"currency": account.currency, **kw},  # type: ignore[arg-type]
    )
    store.transactions[row.id] = row
    return row


@pytest.fixture
async def accounts(store: FakeStore) -> tuple[Account, Account, Account]:
    mine = seed_connection(store)
    theirs = seed_connection(store, user_id=STRANGER)
    return (
        await seed_account(store, mine, "CHK"),
        await seed_account(store, mine, "SAV"),
        await seed_account(store, theirs, "THEIRS"),
    )


async def link(
    store: FakeStore, one: Transaction, other: UUID, user: UUID = OWNER
) -> Result[tuple[Transaction, Transaction], Error]:
    command = LinkTransfer(user_id=user, transaction_id=one.id, other_id=other, context=CONTEXT)
    return await LinkTransferHandler(uow_factory=store.uow).handle(command)


async def unlink(store: FakeStore, one: Transaction, user: UUID = OWNER) -> Result[None, Error]:
    command = UnlinkTransfer(user_id=user, transaction_id=one.id, context=CONTEXT)
    return await UnlinkTransferHandler(uow_factory=store.uow).handle(command)


def transfer_of(store: FakeStore, row: Transaction) -> UUID | None:
    return store.transactions[row.id].transfer_id


async def test_linking_sets_both_sides_and_frees_former_partners(
    store: FakeStore, accounts: tuple[Account, Account, Account]
) -> None:
    checking, savings, _ = accounts
    out = put(store, checking, "-100")
    into = put(store, savings, "95")  # a fee on the way: amounts may differ
    old = put(store, savings, "100")
    store.transactions[out.id] = replace(out, transfer_id=old.id)
    store.transactions[old.id] = replace(old, transfer_id=out.id)

    result = await link(store, out, into.id)

    pair = result.unwrap()
    assert [(t.id, t.transfer_id) for t in pair] == [(out.id, into.id), (into.id, out.id)]
    assert (transfer_of(store, out), transfer_of(store, into)) == (into.id, out.id)
    assert transfer_of(store, old) is None  # free again: an import may link it elsewhere
    [entry] = store.audit_entries(action=LINKED)
    assert (entry.outcome, entry.resource_id, entry.actor_id) == (
        AuditOutcome.SUCCEEDED,
        out.id,
        OWNER,
    )
    assert entry.metadata == {"other_id": str(into.id), "unlinked": [str(old.id)]}
    # Asking for what already is: no change, no second record.
    assert (await link(store, into, out.id)).is_success()
    assert len(store.audit_entries(action=LINKED)) == 1


@pytest.mark.parametrize(
    ("amount", "same_account", "currency"),
    [("100", True, "USD"), ("-100", False, "USD"), ("100", False, "EUR"), ("0", False, "USD")],
)
async def test_what_cannot_be_a_transfer_is_refused(
    store: FakeStore,
    accounts: tuple[Account, Account, Account],
    amount: str,
    same_account: bool,
    currency: str,
) -> None:
    checking, savings, _ = accounts
    out = put(store, checking, "-100")
    other = put(store, checking if same_account else savings, amount, currency=currency)
    error = error_of(await link(store, out, other.id))
    assert (error.code, transfer_of(store, out), transfer_of(store, other)) == (
        "not_a_transfer",
        None,
        None,
    )
    [entry] = store.audit_entries(action=LINKED)
    assert (entry.outcome, entry.reason) == (AuditOutcome.FAILED, "not_a_transfer")
    assert error_of(await link(store, out, out.id)).code == "not_a_transfer"


async def test_another_users_transaction_is_not_found_either_way(
    store: FakeStore, accounts: tuple[Account, Account, Account]
) -> None:
    checking, _, theirs = accounts
    mine = put(store, checking, "-100")
    foreign = put(store, theirs, "100")
    for attempt in (
        await link(store, mine, foreign.id),
        await link(store, foreign, mine.id),
        await link(store, mine, new_id()),
        await unlink(store, foreign),
    ):
        assert error_of(attempt).code == "not_found"
    assert (transfer_of(store, mine), transfer_of(store, foreign)) == (None, None)
    failed = store.audit_entries(outcome=AuditOutcome.FAILED)
    assert [(e.action, e.reason) for e in failed] == [(LINKED, "not_found")] * 3 + [
        (UNLINKED, "not_found")
    ]


async def test_unlinking_marks_both_sides_not_a_transfer(
    store: FakeStore, accounts: tuple[Account, Account, Account]
) -> None:
    checking, savings, _ = accounts
    out = put(store, checking, "-100")
    into = put(store, savings, "100")
    (await link(store, out, into.id)).unwrap()

    assert (await unlink(store, into)).is_success()

    assert (transfer_of(store, out), transfer_of(store, into)) == (out.id, into.id)
    [entry] = store.audit_entries(action=UNLINKED)
    assert (entry.resource_id, entry.metadata) == (into.id, {"other_id": str(out.id)})
    assert (await unlink(store, out)).is_success()
    assert len(store.audit_entries(action=UNLINKED)) == 1  # already so: nothing recorded
    # A row never linked can be marked too, so that no import links it.
    lone = put(store, savings, "5")
    (await unlink(store, lone)).unwrap()
    assert transfer_of(store, lone) == lone.id
    # The owner may still link a marked row by hand.
    (await link(store, lone, put(store, checking, "-5").id)).unwrap()
    assert transfer_of(store, lone) not in (None, lone.id)
