"""Webhook endpoints: register, change, delete, rotate the secret, send a test event."""

from __future__ import annotations

from dashtam.application.lifecycle import AuditNote, Audits, UseCaseRunner, found
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.application.webhooks import rules
from dashtam.application.webhooks.commands import (
    CreateWebhook,
    EndpointCommand,
    QueuedTest,
    UpdateWebhook,
    WithSecret,
)
from dashtam.core.clock import utcnow
from dashtam.core.errors import ConflictError, Error
from dashtam.core.ids import new_id
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, ResourceType
from dashtam.domain.protocols.credentials import CredentialCipher
from dashtam.domain.webhooks.destinations import DestinationGuard
from dashtam.domain.webhooks.entities import (
    MAX_ENDPOINTS_PER_USER,
    TEST_EVENT_TYPE,
    EndpointStatus,
    NewDelivery,
    WebhookEndpoint,
    WebhookEventType,
)
from dashtam.domain.webhooks.payloads import envelope_body

_ENDPOINT = ResourceType.WEBHOOK_ENDPOINT
_CREATED = Audits(action=AuditAction.WEBHOOK_CREATED, resource_type=_ENDPOINT)
_UPDATED = Audits(action=AuditAction.WEBHOOK_UPDATED, resource_type=_ENDPOINT)
_DELETED = Audits(action=AuditAction.WEBHOOK_DELETED, resource_type=_ENDPOINT)
_LIMIT = ConflictError(
    f"a user has at most {MAX_ENDPOINTS_PER_USER} webhook endpoints; delete one first",
    code="webhook_limit_reached",
)
DISABLED_BY_USER = "disabled by its owner"


class WebhookHandlers:
    """Every write is one audited use case; the audit record never holds the URL's path or
    query, nor the secret."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        guard: DestinationGuard,
        cipher: CredentialCipher,
    ) -> None:
        self._runner = UseCaseRunner(uow_factory)
        self._guard = guard
        self._cipher = cipher

    async def create(self, command: CreateWebhook) -> Result[WithSecret, Error]:
        note = _CREATED.note(command.context, target=rules.safe_target(command.url))
        checked = await self._checked(command.url, command.events, command.description)
        if isinstance(checked, Failure):
            return await self._runner.refuse(note, checked.error)
        url, events, description = checked.value
        if url is None or not events:
            raise AssertionError("a creation checks the url and the events it was given")
        endpoint_id = new_id()
        secret = rules.new_secret()
        endpoint = WebhookEndpoint(
            id=endpoint_id,
            user_id=command.user_id,
            url=url,
            events=events,
            description=description,
            sealed_secret=self._cipher.seal(secret, context=rules.secret_context(endpoint_id)),
        )

        async def create(uow: UnitOfWork) -> Result[WithSecret, Error]:
            # Counted in the transaction; two racing creations may pass one over the limit,
            # which bounds the abuse just the same.
            counted = await uow.webhooks.count_for_user(command.user_id)
            if isinstance(counted, Failure):
                return counted
            if counted.value >= MAX_ENDPOINTS_PER_USER:
                return Failure(_LIMIT)
            added = await uow.webhooks.add(endpoint)
            if isinstance(added, Failure):
                return added
            note.on_success(
                resource=(_ENDPOINT, endpoint_id), events=[e.value for e in endpoint.events]
            )
            return Success(WithSecret(endpoint=added.value, secret=secret))

        return await self._runner.run(note, create)

    async def update(self, command: UpdateWebhook) -> Result[WebhookEndpoint, Error]:
        note = _UPDATED.note(command.context, resource_id=command.endpoint_id)
        if command.url is not None:
            note.metadata["target"] = rules.safe_target(command.url)
        checked = await self._checked(command.url, command.events, command.description)
        if isinstance(checked, Failure):
            return await self._runner.refuse(note, checked.error)
        url, events, description = checked.value

        async def update(uow: UnitOfWork) -> Result[WebhookEndpoint, Error]:
            loaded = await self._owned(uow, command)
            if isinstance(loaded, Failure):
                return loaded
            endpoint = loaded.value
            endpoint.url = url or endpoint.url
            endpoint.events = events or endpoint.events
            if command.description is not None:
                endpoint.description = description
            _apply_enabled(endpoint, command.enabled, note)
            return await uow.webhooks.update(endpoint)

        return await self._runner.run(note, update)

    async def delete(self, command: EndpointCommand) -> Result[None, Error]:
        note = _DELETED.note(command.context, resource_id=command.endpoint_id)

        async def delete(uow: UnitOfWork) -> Result[None, Error]:
            loaded = await self._owned(uow, command)
            if isinstance(loaded, Failure):
                return loaded
            return await uow.webhooks.delete(loaded.value.id)

        return await self._runner.run(note, delete)

    async def rotate_secret(self, command: EndpointCommand) -> Result[WithSecret, Error]:
        """A new secret replaces the old one at once (receivers must switch over)."""
        note = _UPDATED.note(command.context, resource_id=command.endpoint_id, secret_rotated=True)
        secret = rules.new_secret()

        async def rotate(uow: UnitOfWork) -> Result[WithSecret, Error]:
            loaded = await self._owned(uow, command)
            if isinstance(loaded, Failure):
                return loaded
            endpoint = loaded.value
            context = rules.secret_context(endpoint.id)
            endpoint.sealed_secret = self._cipher.seal(secret, context=context)
            updated = await uow.webhooks.update(endpoint)
            return updated.map(lambda saved: WithSecret(endpoint=saved, secret=secret))

        return await self._runner.run(note, rotate)

    async def send_test(self, command: EndpointCommand) -> Result[QueuedTest, Error]:
        """Queue a ``webhook.test`` event for this endpoint (delivered like any other)."""
        note = _UPDATED.note(command.context, resource_id=command.endpoint_id, test_event=True)

        async def queue(uow: UnitOfWork) -> Result[QueuedTest, Error]:
            loaded = await self._owned(uow, command)
            if isinstance(loaded, Failure):
                return loaded
            event_id, now = new_id(), utcnow()
            body = envelope_body(
                event_id=event_id,
                event_type=TEST_EVENT_TYPE,
                created_at=now,
                data={"endpoint_id": str(command.endpoint_id)},
            )
            delivery = NewDelivery(
                endpoint_id=command.endpoint_id,
                event_id=event_id,
                event_type=TEST_EVENT_TYPE,
                payload=body,
                due_at=now,
            )
            queued = await uow.webhooks.queue(delivery)
            test = QueuedTest(endpoint_id=command.endpoint_id, event_id=event_id)
            return queued.map(lambda _: test)

        return await self._runner.run(note, queue)

    @staticmethod
    async def _owned(
        uow: UnitOfWork, command: UpdateWebhook | EndpointCommand
    ) -> Result[WebhookEndpoint, Error]:
        loaded = await uow.webhooks.get_owned(command.user_id, command.endpoint_id)
        return found(loaded, "webhook endpoint")

    async def _checked(
        self, url: str | None, events: tuple[str, ...] | None, description: str | None
    ) -> Result[tuple[str | None, tuple[WebhookEventType, ...] | None, str | None], Error]:
        """The given fields, checked (None where not given); the URL last, resolved by the
        guard (no DNS query for a request that is refused anyway)."""
        checked_events = None
        if events is not None:
            match rules.event_types(events):
                case Failure() as refused:
                    return refused
                case Success(kinds):
                    checked_events = kinds
        match rules.description(description):
            case Failure() as refused:
                return refused
            case Success(text):
                checked_text = text
        if url is None:
            return Success((None, checked_events, checked_text))
        match await rules.allowed_url(url, self._guard):
            case Failure() as refused:
                return refused
            case Success(value):
                return Success((value, checked_events, checked_text))
        raise AssertionError("unreachable: a Result is a Success or a Failure")


def _apply_enabled(endpoint: WebhookEndpoint, enabled: bool | None, note: AuditNote) -> None:
    if enabled is True and not endpoint.is_active:
        endpoint.enable()
        note.on_success(enabled=True)
    elif enabled is False and endpoint.is_active:
        endpoint.status = EndpointStatus.DISABLED
        endpoint.disabled_reason = DISABLED_BY_USER
        note.on_success(enabled=False)
