"""Syncing a live connection: fetch its windows, then write them like a statement.

Four short steps, none holding a database connection during a network call: read the
connection and take its claim; count the requests against the day's budget; fetch every
window; write everything in one transaction (accounts, balances, transactions, positions,
vanished pending rows, the connection's new schedule), audited, with ``SyncCompleted``. A
failed fetch writes only the connection's schedule and the failure's trace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from dashtam.application.lifecycle import AuditNote, Audits, UseCaseRunner, found
from dashtam.application.live import outcomes
from dashtam.application.live.commands import SyncConnection, SyncReport
from dashtam.application.live.connect import credentials_context
from dashtam.application.live.parts import MergedSnapshot, sync_parts
from dashtam.application.live.policy import SyncPolicy
from dashtam.application.live.sync_write import SyncWrite
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.core.clock import utcnow
from dashtam.core.errors import ConflictError, Error
from dashtam.core.ids import new_id
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, ResourceType
from dashtam.domain.protocols.credentials import CredentialCipher
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.domain.providers.entities import ProviderConnection
from dashtam.domain.providers.live import AccessGrant, AccessUrl, LiveSource


@dataclass(frozen=True, slots=True)
class _Loaded:
    connection: ProviderConnection
    sealed: str


class SyncConnectionHandler:
    audits = Audits(
        action=AuditAction.SYNC_SUCCEEDED,
        failed_action=AuditAction.SYNC_FAILED,
        resource_type=ResourceType.PROVIDER_CONNECTION,
        failure_event="connection_sync_failed",
    )

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        source: LiveSource,
        cipher: CredentialCipher,
        logger: LoggerProtocol,
        policy: SyncPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._uow_factory = uow_factory
        self._runner = UseCaseRunner(uow_factory, logger=logger)
        self._source = source
        self._cipher = cipher
        self._logger = logger
        self._policy = policy or SyncPolicy()
        self._clock = clock

    async def handle(self, command: SyncConnection) -> Result[SyncReport, Error]:
        note = self.audits.note(
            command.context, resource_id=command.connection_id, actor_id=command.user_id
        )
        loaded = await self._load(command)
        if isinstance(loaded, Failure):
            return await self._runner.refuse(note, loaded.error)
        connection = loaded.value.connection
        note.actor_id = note.actor_id or connection.user_id
        worker = command.claimed_by or f"request:{new_id()}"
        if command.claimed_by is None:
            claimed = await self._claim(connection.id, worker)
            if isinstance(claimed, Failure):
                return await self._runner.refuse(note, claimed.error)
        try:
            return await self._sync(loaded.value, note)
        finally:
            if command.claimed_by is None:
                await self._release(connection.id, worker)

    async def _load(self, command: SyncConnection) -> Result[_Loaded, Error]:
        async with self._uow_factory() as uow:
            if command.user_id is None:
                got = await uow.connections.get(command.connection_id)
            else:
                got = await uow.connections.get_owned(command.user_id, command.connection_id)
            loaded = found(got, "connection")
            if isinstance(loaded, Failure):
                return loaded
            connection = loaded.value
            if not connection.is_live:
                return Failure(
                    ConflictError(
                        "this connection is fed by files; it has nothing to sync",
                        code="not_a_live_connection",
                    )
                )
            if not connection.is_active:
                return Failure(
                    ConflictError("the connection is disconnected", code="connection_disconnected")
                )
            sealed = await uow.sync_state.sealed_credentials(connection.id)
            if isinstance(sealed, Failure):
                return sealed
            if sealed.value is None:
                return Failure(
                    ConflictError(
                        "the connection holds no access; connect the account again",
                        code="connection_without_access",
                    )
                )
            return Success(_Loaded(connection, sealed.value))

    async def _sync(self, loaded: _Loaded, note: AuditNote) -> Result[SyncReport, Error]:
        connection = loaded.connection
        now = self._clock()
        opened = self._cipher.open(loaded.sealed, context=credentials_context(connection.id))
        if isinstance(opened, Failure):
            return await self._fail(
                outcomes.failed(connection, opened.error, now=now, policy=self._policy), note
            )
        grant = AccessGrant(access_url=AccessUrl(opened.value))
        start = self._policy.start(connection.last_sync_at, now)
        windows = self._policy.windows(start, now)
        allowed = await self._spend(connection.id, now, len(windows))
        if isinstance(allowed, Failure):
            return await self._runner.refuse(note, allowed.error)
        if not allowed.value:
            return await self._fail(
                outcomes.over_budget(connection, now=now, policy=self._policy), note
            )
        merged = MergedSnapshot()
        for window_start, window_end in windows:
            fetched = await self._source.fetch(grant, start=window_start, end=window_end)
            if isinstance(fetched, Failure):
                failure = outcomes.failed(connection, fetched.error, now=now, policy=self._policy)
                return await self._fail(failure, note)
            merged.add(fetched.value)
        write = SyncWrite(
            connection=connection,
            parts=sync_parts(merged, as_of=now),
            messages=tuple(message.message for message in merged.messages),
            window=(start, now),
            requests=len(windows),
            now=now,
            policy=self._policy,
        )
        note.metadata.update(requests=len(windows), window_days=(now - start).days)
        return await self._runner.run(note, lambda uow: write.run(uow, note))

    async def _fail(
        self, failure: outcomes.FailedSync, note: AuditNote
    ) -> Result[SyncReport, Error]:
        async def record(uow: UnitOfWork) -> Result[SyncReport, Error]:
            assert note.resource_id is not None
            saved = await uow.sync_state.save_outcome(note.resource_id, failure.outcome)
            if isinstance(saved, Failure):
                return saved
            for event in failure.events:
                uow.raise_event(event)
            note.keep_failure()  # the schedule and the events are the failure's trace
            return Failure(failure.error)

        return await self._runner.run(note, record)

    async def _claim(self, connection_id: UUID, worker: str) -> Result[None, Error]:
        now = self._clock()
        async with self._uow_factory() as uow:
            claimed = await uow.sync_state.claim(
                connection_id, worker=worker, now=now, lease_until=now + self._policy.lease
            )
            if isinstance(claimed, Failure):
                return claimed
            if not claimed.value:
                return Failure(
                    ConflictError(
                        "this connection is being synced right now; try again in a moment",
                        code="sync_in_progress",
                    )
                )
            return await uow.commit()

    async def _release(self, connection_id: UUID, worker: str) -> None:
        async with self._uow_factory() as uow:
            released = await uow.sync_state.release(connection_id, worker=worker)
            done = await uow.commit() if isinstance(released, Success) else released
            if isinstance(done, Failure):
                # The lease ends by itself; the next sync waits for it at worst.
                self._logger.warning("sync_claim_not_released", code=done.error.code)

    async def _spend(
        self, connection_id: UUID, now: datetime, requests: int
    ) -> Result[bool, Error]:
        async with self._uow_factory() as uow:
            spent = await uow.sync_state.spend_requests(
                connection_id,
                day=now.astimezone(UTC).date(),
                count=requests,
                limit=self._policy.max_requests_per_day,
            )
            if isinstance(spent, Failure) or not spent.value:
                return spent
            committed = await uow.commit()
            return committed.map(lambda _: True)
