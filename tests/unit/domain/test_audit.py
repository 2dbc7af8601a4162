"""Audit vocabulary: secrets never reach an entry."""

from __future__ import annotations

from uuid import UUID

import pytest

from dashtam.core.ids import new_id
from dashtam.domain.audit import (
    AuditAction,
    AuditContext,
    AuditEntry,
    AuditOutcome,
    ResourceType,
    scrub_metadata,
)


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "new_password",
        "current_password",
        "password_hash",
        "token",
        "access_token",
        "refresh_token",
        "secret",
        "authorization",
        "cookie",
        "Password",
        "ACCESS_TOKEN",
    ],
)
def test_secret_keys_are_dropped_whatever_their_case(key: str) -> None:
    assert scrub_metadata({key: "s3cr3t", "email": "a@example.com"}) == {"email": "a@example.com"}


def test_scrubbing_is_recursive_into_mappings_and_leaves_the_input_alone() -> None:
    metadata = {
        "email": "a@example.com",
        "request": {"headers": {"Authorization": "Bearer x", "accept": "json"}, "token": "t"},
        "count": 2,
    }
    assert scrub_metadata(metadata) == {
        "email": "a@example.com",
        "request": {"headers": {"accept": "json"}},
        "count": 2,
    }
    assert metadata["request"]["token"] == "t"  # type: ignore[index]


def test_scrubbing_reaches_mappings_inside_lists() -> None:
    scrubbed = scrub_metadata({"attempts": [{"password": "hunter2hunter2", "n": 1}]})
    assert scrubbed == {"attempts": [{"n": 1}]}


@pytest.mark.parametrize("key", ["api_key", "client_secret", "id_token", "private_password"])
def test_scrubbing_drops_keys_that_merely_contain_a_secret_word(key: str) -> None:
    assert scrub_metadata({key: "s3cr3t", "kept": 1}) == {"kept": 1}


def test_entry_of_fills_from_context_and_scrubs_metadata() -> None:
    context = AuditContext(
        actor_id=new_id(), ip_address="203.0.113.9", user_agent="ua", trace_id="trace-1"
    )
    resource = new_id()
    entry = AuditEntry.of(
        context,
        action=AuditAction.USER_LOGIN_FAILED,
        outcome=AuditOutcome.FAILED,
        resource_type=ResourceType.SESSION,
        resource_id=resource,
        reason="bad_credentials",
        metadata={"email": "a@example.com", "password": "hunter2hunter2"},
    )
    assert entry.actor_id == context.actor_id
    assert (entry.ip_address, entry.user_agent, entry.trace_id) == ("203.0.113.9", "ua", "trace-1")
    assert (entry.resource_id, entry.reason) == (resource, "bad_credentials")
    assert dict(entry.metadata) == {"email": "a@example.com"}
    assert isinstance(entry.id, UUID)
    assert entry.id.version == 7
    assert entry.occurred_at.utcoffset() is not None
    assert entry.occurred_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_explicit_actor_overrides_the_context() -> None:
    actor = new_id()
    entry = AuditEntry.of(
        AuditContext(actor_id=new_id()),
        action=AuditAction.USER_REGISTERED,
        outcome=AuditOutcome.SUCCEEDED,
        resource_type=ResourceType.USER,
        actor_id=actor,
    )
    assert entry.actor_id == actor
    assert dict(entry.metadata) == {}


def test_action_and_outcome_values_are_stable() -> None:
    assert AuditAction.ADMIN_USER_DELETED.value == "admin.user_deleted"
    assert AuditAction.USER_REGISTRATION_FAILED.value == "user.registration_failed"
    assert {o.value for o in AuditOutcome} == {"succeeded", "failed", "denied"}
