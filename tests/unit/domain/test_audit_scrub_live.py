"""Audit metadata never keeps a live provider's secrets, whatever a handler passes."""

from __future__ import annotations

from dashtam.domain.audit import AuditAction, AuditContext, AuditEntry, AuditOutcome, ResourceType


def test_access_urls_and_credentials_are_scrubbed_from_metadata() -> None:
    entry = AuditEntry.of(
        AuditContext(),
        action=AuditAction.CONNECTION_CREATED,
        outcome=AuditOutcome.SUCCEEDED,
        resource_type=ResourceType.PROVIDER_CONNECTION,
        metadata={
            "access_url": "https://u:p@bridge.example/x",
            "claim_url": "https://bridge.example/claim/abc",
            "credentials": "v1.k.n.c",
            "provider": "simplefin",
        },
    )
    assert entry.metadata["provider"] == "simplefin"
    assert "u:p@" not in str(dict(entry.metadata))
    assert "claim/abc" not in str(dict(entry.metadata))
    assert "v1.k.n.c" not in str(dict(entry.metadata))
