"""The ``AuditProtocol`` contract, written once; ``test_audit_trail`` runs it per adapter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest

from dashtam.core.ids import new_id
from dashtam.core.result import Failure, Success
from dashtam.domain.audit import AuditAction, AuditEntry, AuditOutcome, AuditProtocol, ResourceType
from tests.contracts.harness import Harness

OCCURRED = datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


def entry(resource_id: UUID | None, **overrides: Any) -> AuditEntry:
    fields: dict[str, Any] = {
        "action": AuditAction.USER_REGISTERED,
        "outcome": AuditOutcome.SUCCEEDED,
        "resource_type": ResourceType.USER,
        "resource_id": resource_id,
    }
    fields.update(overrides)
    return AuditEntry(**fields)


class AuditTrailContract:
    """Every ``AuditProtocol`` adapter must pass these; subclasses provide ``harness``."""

    @pytest.fixture
    def harness(self) -> Harness[AuditProtocol]:
        raise NotImplementedError

    async def test_record_then_list_round_trips_every_field(
        self, harness: Harness[AuditProtocol]
    ) -> None:
        resource = new_id()
        recorded = entry(
            resource,
            action=AuditAction.ADMIN_USER_DELETED,
            outcome=AuditOutcome.DENIED,
            actor_id=new_id(),
            ip_address="2001:db8::1",
            user_agent="curl/8.5.0",
            trace_id=str(new_id()),
            reason="forbidden",
            metadata={"deleted_email": "x@example.com"},
            occurred_at=OCCURRED,
        )
        assert await harness.adapter.record(recorded) == Success(None)

        listed = (await (await harness.reopen()).list_for_resource(resource)).unwrap()
        assert list(listed) == [recorded]
        assert listed[0].occurred_at == OCCURRED
        assert listed[0].occurred_at.utcoffset() == timedelta(0)

    async def test_entries_are_visible_to_the_recording_transaction(
        self, harness: Harness[AuditProtocol]
    ) -> None:
        resource = new_id()
        recorded = entry(resource)
        (await harness.adapter.record(recorded)).unwrap()
        assert [e.id for e in (await harness.adapter.list_for_resource(resource)).unwrap()] == [
            recorded.id
        ]

    async def test_list_filters_by_resource_and_action_oldest_first(
        self, harness: Harness[AuditProtocol]
    ) -> None:
        resource, other = new_id(), new_id()
        first = entry(resource)
        denied = entry(resource, action=AuditAction.ADMIN_ACCESS_DENIED)
        third = entry(resource, outcome=AuditOutcome.FAILED)
        elsewhere = entry(other)
        unattached = entry(None)
        for item in (first, denied, elsewhere, third, unattached):
            (await harness.adapter.record(item)).unwrap()

        trail = await harness.reopen()
        everything = (await trail.list_for_resource(resource)).unwrap()
        assert [e.id for e in everything] == [first.id, denied.id, third.id]
        registered = (
            await trail.list_for_resource(resource, action=AuditAction.USER_REGISTERED)
        ).unwrap()
        assert [e.id for e in registered] == [first.id, third.id]
        assert [e.outcome for e in registered] == [AuditOutcome.SUCCEEDED, AuditOutcome.FAILED]
        assert [e.id for e in (await trail.list_for_resource(other)).unwrap()] == [elsewhere.id]
        assert (await trail.list_for_resource(new_id())).unwrap() == []

    async def test_metadata_round_trips_as_json(self, harness: Harness[AuditProtocol]) -> None:
        resource = new_id()
        metadata = {
            "email": "zoë@bücher.example",
            "count": 3,
            "ratio": 0.5,
            "flag": True,
            "nothing": None,
            "nested": {"deep": {"list": [1, "two", {"three": 3}]}},
            "pair": ("a", "b"),
        }
        (await harness.adapter.record(entry(resource, metadata=metadata))).unwrap()
        stored = (await (await harness.reopen()).list_for_resource(resource)).unwrap()[0]
        expected = {**metadata, "pair": ["a", "b"]}  # JSON has arrays, not tuples
        assert dict(stored.metadata) == expected

    async def test_entry_without_metadata_comes_back_with_an_empty_mapping(
        self, harness: Harness[AuditProtocol]
    ) -> None:
        resource = new_id()
        (await harness.adapter.record(entry(resource))).unwrap()
        stored = (await (await harness.reopen()).list_for_resource(resource)).unwrap()[0]
        assert dict(stored.metadata) == {}
        assert (stored.actor_id, stored.ip_address, stored.user_agent, stored.reason) == (
            None,
            None,
            None,
            None,
        )

    async def test_time_in_another_zone_is_stored_as_the_same_instant_in_utc(
        self, harness: Harness[AuditProtocol]
    ) -> None:
        resource = new_id()
        local = OCCURRED.astimezone(timezone(timedelta(hours=-5)))
        (await harness.adapter.record(entry(resource, occurred_at=local))).unwrap()
        stored = (await (await harness.reopen()).list_for_resource(resource)).unwrap()[0]
        assert stored.occurred_at == OCCURRED
        assert stored.occurred_at.utcoffset() == timedelta(0)

    async def test_overlong_user_agent_is_clipped_to_the_column(
        self, harness: Harness[AuditProtocol]
    ) -> None:
        resource = new_id()
        (await harness.adapter.record(entry(resource, user_agent="x" * 600))).unwrap()
        stored = (await (await harness.reopen()).list_for_resource(resource)).unwrap()[0]
        assert stored.user_agent == "x" * 512

    async def test_an_entry_cannot_be_recorded_twice(self, harness: Harness[AuditProtocol]) -> None:
        resource = new_id()
        recorded = entry(resource, reason="first")
        (await harness.adapter.record(recorded)).unwrap()
        trail = await harness.reopen()
        result = await trail.record(recorded)
        assert isinstance(result, Failure)
        # SQLite's refuse-replace trigger (INSERT OR REPLACE must not rewrite a record) fires
        # before the primary key can say "duplicate": refused either way, nothing changed.
        assert result.error.code in ("duplicate", "operation_not_permitted")
        trail = await harness.discard()
        assert [e.id for e in (await trail.list_for_resource(resource)).unwrap()] == [recorded.id]
