"""The owner's word on transfers: link two of their transactions, or say one is no transfer.

Imports link transfers by themselves (``reconcile.py``); these use cases correct them. An
unlinked row keeps ``transfer_id`` = its own id: imports read that as "not a transfer, leave
it alone", and the API shows it as no link at all.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from dashtam.application.lifecycle import AuditNote, Audits, UseCaseRunner, found
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.core.errors import ConflictError, Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, AuditContext, ResourceType
from dashtam.domain.transactions.entities import Transaction
from dashtam.domain.transactions.matching import (
    transfer_partner,
    transfer_refusal,
    transfer_refused,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkTransfer:
    user_id: UUID
    transaction_id: UUID
    other_id: UUID
    context: AuditContext


@dataclass(frozen=True, slots=True, kw_only=True)
class UnlinkTransfer:
    user_id: UUID
    transaction_id: UUID
    context: AuditContext


class LinkTransferHandler:
    """Both rows the caller's, in different accounts and the same currency, money out of one
    and into the other (amounts may differ: a fee). Their former partners become unlinked."""

    audits = Audits(
        action=AuditAction.TRANSACTION_TRANSFER_LINKED, resource_type=ResourceType.TRANSACTION
    )

    def __init__(self, *, uow_factory: UnitOfWorkFactory) -> None:
        self._runner = UseCaseRunner(uow_factory)

    async def handle(self, command: LinkTransfer) -> Result[tuple[Transaction, Transaction], Error]:
        note = self.audits.note(
            command.context,
            resource_id=command.transaction_id,
            actor_id=command.user_id,
            other_id=str(command.other_id),
        )
        return await self._runner.run(note, lambda uow: self._link(uow, command, note))

    @staticmethod
    async def _link(
        uow: UnitOfWork, command: LinkTransfer, note: AuditNote
    ) -> Result[tuple[Transaction, Transaction], Error]:
        one = await _owned(uow, command.user_id, command.transaction_id)
        if isinstance(one, Failure):
            return one
        other = await _owned(uow, command.user_id, command.other_id)
        if isinstance(other, Failure):
            return other
        a, b = one.value, other.value
        if (why := transfer_refusal(a, b)) is not None:
            return Failure(ConflictError(why, code="not_a_transfer"))
        if a.transfer_id == b.id and b.transfer_id == a.id:
            note.nothing_changed()
            return Success((a, b))
        links: dict[UUID, UUID | None] = {
            partner: None
            for partner in (transfer_partner(a), transfer_partner(b))
            if partner is not None and partner not in (a.id, b.id)
        }
        links |= {a.id: b.id, b.id: a.id}
        written = await uow.transactions.set_transfer_ids(links)
        if isinstance(written, Failure):
            return written
        if len(links) > 2:
            note.on_success(unlinked=sorted(str(k) for k in links if k not in (a.id, b.id)))
        return Success((_with(a, b.id), _with(b, a.id)))


class UnlinkTransferHandler:
    """The row, and its partner if it has one, are marked "not a transfer" (idempotent)."""

    audits = Audits(
        action=AuditAction.TRANSACTION_TRANSFER_UNLINKED, resource_type=ResourceType.TRANSACTION
    )

    def __init__(self, *, uow_factory: UnitOfWorkFactory) -> None:
        self._runner = UseCaseRunner(uow_factory)

    async def handle(self, command: UnlinkTransfer) -> Result[None, Error]:
        note = self.audits.note(
            command.context, resource_id=command.transaction_id, actor_id=command.user_id
        )
        return await self._runner.run(note, lambda uow: self._unlink(uow, command, note))

    @staticmethod
    async def _unlink(
        uow: UnitOfWork, command: UnlinkTransfer, note: AuditNote
    ) -> Result[None, Error]:
        loaded = await _owned(uow, command.user_id, command.transaction_id)
        if isinstance(loaded, Failure):
            return loaded
        row = loaded.value
        if transfer_refused(row):
            note.nothing_changed()
            return Success(None)
        links: dict[UUID, UUID | None] = {row.id: row.id}
        if (partner := transfer_partner(row)) is not None:
            links[partner] = partner
            note.on_success(other_id=str(partner))
        return await uow.transactions.set_transfer_ids(links)


async def _owned(
    uow: UnitOfWork, user_id: UUID, transaction_id: UUID
) -> Result[Transaction, Error]:
    # Another user's transaction is "not found", exactly like one that does not exist.
    return found(await uow.transactions.get_owned(user_id, transaction_id), "transaction")


def _with(row: Transaction, partner: UUID) -> Transaction:
    return replace(row, transfer_id=partner)
