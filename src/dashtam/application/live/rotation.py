"""Re-sealing stored provider credentials under the current key (``dashtam credentials rotate``).

All in one transaction: either every credential that needed it is under the new key, or none
changed. A credential that no configured key opens is counted and left as it is (removing
its key from the settings would lose it: the command says so instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from dashtam.application.lifecycle import AuditNote, Audits, UseCaseRunner
from dashtam.application.live.connect import credentials_context
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
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
        examined = resealed = unreadable = 0
        after: UUID | None = None
        while True:
            page = await uow.sync_state.sealed_page(after=after, limit=PAGE)
            if isinstance(page, Failure):
                return page
            for credential in page.value:
                examined += 1
                if not self._cipher.needs_rotation(credential.sealed):
                    continue
                context = credentials_context(credential.connection_id)
                match self._cipher.reseal(credential.sealed, context=context):
                    case Success(sealed):
                        stored = await uow.sync_state.store_credentials(
                            credential.connection_id, sealed
                        )
                        if isinstance(stored, Failure):
                            return stored
                        resealed += 1
                    case Failure():
                        unreadable += 1
            if len(page.value) < PAGE:
                break
            after = page.value[-1].connection_id
        note.on_success(examined=examined, resealed=resealed, unreadable=unreadable)
        return Success(Rotation(examined, resealed, unreadable, self._cipher.current_key_id))
