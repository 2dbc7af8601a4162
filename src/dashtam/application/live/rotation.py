"""Re-sealing stored secrets under the current key (``dashtam credentials rotate``): the
accesses of live connections, the signing secrets of webhook endpoints and the secrets of
TOTP authenticators.

All in one transaction: either every credential that needed it is under the new key, or none
changed. A credential that no configured key opens is counted and left as it is (removing
its key from the settings would lose it: the command says so instead).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from dashtam.application.auth.second_factor import totp_context
from dashtam.application.lifecycle import AuditNote, Audits, UseCaseRunner
from dashtam.application.live.connect import credentials_context
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.application.webhooks.rules import secret_context
from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, AuditContext, ResourceType
from dashtam.domain.protocols.credentials import CredentialCipher

PAGE = 200


@dataclass(frozen=True, slots=True)
class Rotation:
    examined: int
    resealed: int
    unreadable: int
    key_id: str


class RotateCredentialsHandler:
    audits = Audits(
        action=AuditAction.CREDENTIALS_ROTATED, resource_type=ResourceType.PROVIDER_CONNECTION
    )

    def __init__(self, *, uow_factory: UnitOfWorkFactory, cipher: CredentialCipher) -> None:
        self._runner = UseCaseRunner(uow_factory)
        self._cipher = cipher

    async def handle(self, context: AuditContext) -> Result[Rotation, Error]:
        note = self.audits.note(context, key_id=self._cipher.current_key_id)
        return await self._runner.run(note, lambda uow: self._rotate(uow, note))

    async def _rotate(self, uow: UnitOfWork, note: AuditNote) -> Result[Rotation, Error]:
        tally = _Tally()
        kinds: tuple[tuple[Pages, Store, Context], ...] = (
            (_connection_pages(uow), uow.sync_state.store_credentials, credentials_context),
            (uow.webhooks.sealed_secrets, uow.webhooks.store_secret, secret_context),
            (uow.second_factors.sealed_secrets, uow.second_factors.store_secret, totp_context),
        )
        for pages, store, context in kinds:
            after: UUID | None = None
            while True:
                page = await pages(after=after, limit=PAGE)
                if isinstance(page, Failure):
                    return page
                for owner, sealed in page.value:
                    done = await self._reseal(owner, sealed, store, context(owner), tally)
                    if isinstance(done, Failure):
                        return done
                if len(page.value) < PAGE:
                    break
                after = page.value[-1][0]
        note.on_success(
            examined=tally.examined, resealed=tally.resealed, unreadable=tally.unreadable
        )
        return Success(
            Rotation(tally.examined, tally.resealed, tally.unreadable, self._cipher.current_key_id)
        )

    async def _reseal(
        self, owner: UUID, sealed: str, store: Store, context: str, tally: _Tally
    ) -> Result[None, Error]:
        tally.examined += 1
        if not self._cipher.needs_rotation(sealed):
            return Success(None)
        match self._cipher.reseal(sealed, context=context):
            case Success(resealed):
                tally.resealed += 1
                return await store(owner, resealed)
            case Failure():
                tally.unreadable += 1
        return Success(None)


@dataclass(slots=True)
class _Tally:
    examined: int = 0
    resealed: int = 0
    unreadable: int = 0


Page = Result[Sequence[tuple[UUID, str]], Error]


class Pages(Protocol):
    async def __call__(self, *, after: UUID | None, limit: int) -> Page: ...


Store = Callable[[UUID, str], Awaitable[Result[None, Error]]]
Context = Callable[[UUID], str]


def _connection_pages(uow: UnitOfWork) -> Pages:
    async def pages(*, after: UUID | None, limit: int) -> Page:
        page = await uow.sync_state.sealed_page(after=after, limit=limit)
        return page.map(lambda rows: [(row.connection_id, row.sealed) for row in rows])

    return pages
