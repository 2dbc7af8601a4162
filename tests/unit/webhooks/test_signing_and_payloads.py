"""Signatures (the documented receiver check) and the JSON each event becomes."""

from __future__ import annotations

from uuid import UUID

from dashtam.core.ids import new_id
from dashtam.domain.accounts.events import AccountDeleted
from dashtam.domain.events import DomainEvent, EventEnvelope
from dashtam.domain.providers.events import (
    ConnectionNeedsAttention,
    ProviderConnected,
    ProviderDisconnected,
    StatementImported,
    SyncCompleted,
)
from dashtam.domain.webhooks.payloads import webhook_event_of
from dashtam.infrastructure.webhooks.signing import signature, signature_header, verify

SECRET = "whsec_test-secret"
BODY = b'{"id":"1","type":"webhook.test"}'
NOW = 1_800_000_000


def test_a_signature_verifies_within_the_tolerance_window() -> None:
    header = signature_header(SECRET, NOW, BODY)
    assert header == f"t={NOW},v1={signature(SECRET, NOW, BODY)}"
    assert verify(SECRET, header, BODY, now=NOW)
    assert verify(SECRET, header, BODY, now=NOW + 300)
    assert not verify(SECRET, header, BODY, now=NOW + 301)  # a replay, too late
    assert not verify(SECRET, header, BODY, now=NOW - 301)  # from too far in the future


def test_a_signature_binds_the_secret_the_body_and_the_time() -> None:
    header = signature_header(SECRET, NOW, BODY)
    assert not verify("whsec_other", header, BODY, now=NOW)
    assert not verify(SECRET, header, BODY + b" ", now=NOW)
    moved = header.replace(f"t={NOW}", f"t={NOW + 1}")
    assert not verify(SECRET, moved, BODY, now=NOW)
    assert not verify(SECRET, "", BODY, now=NOW)
    assert not verify(SECRET, "t=abc,v1=00", BODY, now=NOW)


def test_any_v1_may_match() -> None:
    header = f"t={NOW},v1={'0' * 64},v1={signature(SECRET, NOW, BODY)}"
    assert verify(SECRET, header, BODY, now=NOW)


def _envelope(event: DomainEvent) -> EventEnvelope:
    return EventEnvelope(
        event_id=event.event_id,
        event_type=event.event_type,
        occurred_at=event.occurred_at,
        payload=event.payload(),
    )


USER = new_id()
CONNECTION = new_id()


def test_events_map_to_webhook_types() -> None:
    account = new_id()
    cases = {
        StatementImported(
            user_id=USER, connection_id=CONNECTION, transactions_new=2, transactions_updated=1
        ): ("transactions.updated", "import", (2, 1, 0)),
        SyncCompleted(
            user_id=USER,
            connection_id=CONNECTION,
            accounts=1,
            transactions_new=0,
            transactions_updated=0,
            transactions_removed=4,
        ): ("transactions.updated", "sync", (0, 0, 4)),
        AccountDeleted(user_id=USER, account_id=account): (
            "transactions.updated",
            "account_deleted",
            (None, None, None),
        ),
        ProviderDisconnected(user_id=USER, connection_id=CONNECTION, purged=True): (
            "transactions.updated",
            "connection_purged",
            (None, None, None),
        ),
    }
    for event, (kind, reason, counts) in cases.items():
        webhook = webhook_event_of(_envelope(event))
        assert webhook is not None
        assert (webhook.user_id, webhook.event_type) == (USER, kind)
        data = webhook.data
        assert data["reason"] == reason
        got = (data["transactions_new"], data["transactions_updated"], data["transactions_removed"])
        assert got == counts
    deleted = webhook_event_of(_envelope(AccountDeleted(user_id=USER, account_id=account)))
    assert deleted is not None
    assert deleted.data["account_id"] == str(account)


def test_events_that_changed_nothing_or_are_not_told_make_no_webhook() -> None:
    quiet = [
        SyncCompleted(
            user_id=USER,
            connection_id=CONNECTION,
            accounts=2,
            transactions_new=0,
            transactions_updated=0,
            transactions_removed=0,
        ),
        StatementImported(
            user_id=USER, connection_id=CONNECTION, transactions_new=0, transactions_updated=0
        ),
        ProviderDisconnected(user_id=USER, connection_id=CONNECTION, purged=False),
        ProviderConnected(user_id=USER, connection_id=CONNECTION, provider="ofx-file"),
    ]
    assert [webhook_event_of(_envelope(e)) for e in quiet] == [None] * 4


def test_needs_attention_carries_the_safe_message() -> None:
    event = ConnectionNeedsAttention(
        user_id=USER, connection_id=CONNECTION, message="Reauthenticate at the bridge"
    )
    webhook = webhook_event_of(_envelope(event))
    assert webhook is not None
    assert webhook.event_type == "connection.needs_attention"
    assert webhook.data == {
        "connection_id": str(CONNECTION),
        "message": "Reauthenticate at the bridge",
    }
    assert isinstance(webhook.user_id, UUID)
