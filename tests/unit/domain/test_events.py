"""Domain events: UUIDv7 ids, aware UTC times, JSON-safe payloads, a complete catalog."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import timedelta

import pytest

from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id
from dashtam.domain.accounts.events import AccountDeleted
from dashtam.domain.events.base import DomainEvent
from dashtam.domain.events.catalog import event_types
from dashtam.domain.personal_tokens.events import PersonalTokenCreated, PersonalTokenRevoked
from dashtam.domain.providers.events import ProviderConnected
from dashtam.domain.users.events import UserDeleted, UserPasswordChanged, UserRegistered


def sample_events() -> list[DomainEvent]:
    return [
        UserRegistered(user_id=new_id(), email="a@example.com"),
        UserPasswordChanged(user_id=new_id()),
        UserDeleted(user_id=new_id(), deleted_by=None),
        UserDeleted(user_id=new_id(), deleted_by=new_id()),
        ProviderConnected(user_id=new_id(), connection_id=new_id(), provider="csv"),
        AccountDeleted(user_id=new_id(), account_id=new_id()),
        PersonalTokenCreated(
            user_id=new_id(), token_id=new_id(), scopes=("import", "read"), expires_at=utcnow()
        ),
        PersonalTokenRevoked(user_id=new_id(), token_id=new_id(), reason="revoked_by_user"),
    ]


@pytest.mark.parametrize("event", sample_events(), ids=lambda e: type(e).__name__)
def test_payload_is_json_safe_and_round_trips(event: DomainEvent) -> None:
    payload = event.payload()
    assert json.loads(json.dumps(payload)) == payload
    assert "event_id" not in payload
    assert "occurred_at" not in payload
    field_names = {f.name for f in dataclasses.fields(event)} - {"event_id", "occurred_at"}
    assert set(payload) == field_names


def test_payload_renders_ids_as_strings() -> None:
    user_id, admin_id = new_id(), new_id()
    event = UserDeleted(user_id=user_id, deleted_by=admin_id)
    assert event.payload() == {"user_id": str(user_id), "deleted_by": str(admin_id)}
    assert UserDeleted(user_id=user_id, deleted_by=None).payload()["deleted_by"] is None


def test_event_id_is_uuid7_and_time_ordered() -> None:
    created = [UserPasswordChanged(user_id=new_id()) for _ in range(50)]
    assert all(event.event_id.version == 7 for event in created)
    assert len({event.event_id for event in created}) == 50
    assert [e.event_id for e in created] == sorted(e.event_id for e in created)


def test_occurred_at_is_aware_utc() -> None:
    event = UserRegistered(user_id=new_id(), email="a@example.com")
    assert event.occurred_at.tzinfo is not None
    assert event.occurred_at.utcoffset() == timedelta(0)


def test_events_are_immutable() -> None:
    event = UserRegistered(user_id=new_id(), email="a@example.com")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.email = "b@example.com"  # type: ignore[misc]


def test_catalog_names_every_event_by_its_stable_type() -> None:
    catalog = event_types()
    assert set(catalog) == {
        "UserRegistered",
        "UserPasswordChanged",
        "UserDeleted",
        "UserAccountClosed",
        "UserUpdatedByAdmin",
        "UserLoggedIn",
        "SecondFactorEnabled",
        "SecondFactorDisabled",
        "RecoveryCodeUsed",
        "RecoveryCodesRegenerated",
        "UserLoginFailed",
        "SessionRevoked",
        "RefreshTokenReuseDetected",
        "PersonalTokenCreated",
        "PersonalTokenRevoked",
        "ProviderConnected",
        "ProviderDisconnected",
        "StatementImported",
        "AccountDeleted",
        "HoldingsUpdated",
        "SyncCompleted",
        "SyncFailed",
        "ConnectionNeedsAttention",
    }
    for name, cls in catalog.items():
        assert cls.event_type == name
        assert issubclass(cls, DomainEvent)


def test_every_defined_event_is_in_the_catalog() -> None:
    # Every event class imported so far (the catalog imports each feature's events module).
    assert set(_all_subclasses(DomainEvent)) == set(event_types().values())


def _all_subclasses(cls: type[DomainEvent]) -> list[type[DomainEvent]]:
    found: list[type[DomainEvent]] = []
    for sub in cls.__subclasses__():
        # @dataclass(slots=True) replaces the class; skip the discarded pre-slots original.
        module = sys.modules[sub.__module__]
        if sub.__module__.startswith("dashtam.") and getattr(module, sub.__name__, None) is sub:
            found.append(sub)
        found.extend(_all_subclasses(sub))
    return found
