"""Fixed audit keys, and audit helpers, for tests that build adapters by hand."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dashtam.core.ids import new_id
from dashtam.domain.audit import AuditAction, AuditEntry, AuditOutcome, ResourceType
from dashtam.infrastructure.audit.chain import AuditChain
from dashtam.infrastructure.audit.signing import AuditKeyring, AuditRecordSigner
from dashtam.infrastructure.audit.sql_audit import SqlAuditTrail
from dashtam.infrastructure.persistence.database import Database

TEST_KEYRING = AuditKeyring.from_secrets(
    [b"test audit mac key"], [Ed25519PrivateKey.from_private_bytes(bytes(range(32)))]
)


def signer_for_tests() -> AuditRecordSigner:
    return AuditRecordSigner(TEST_KEYRING)


def chain_for_tests(database: Database, keyring: AuditKeyring = TEST_KEYRING) -> AuditChain:
    return AuditChain(database=database, signer=AuditRecordSigner(keyring))


async def record_entries(
    database: Database, count: int, *, signer: AuditRecordSigner | None = None
) -> list[AuditEntry]:
    """``count`` genuine records, written in one transaction as a use case would."""
    entries = [
        AuditEntry(
            action=AuditAction.USER_LOGIN_SUCCEEDED,
            outcome=AuditOutcome.SUCCEEDED,
            resource_type=ResourceType.USER,
            resource_id=new_id(),
            metadata={"n": index},
        )
        for index in range(count)
    ]
    async with database.transaction() as session:
        trail = SqlAuditTrail(session=session, signer=signer or signer_for_tests())
        for entry in entries:
            (await trail.record(entry)).unwrap()
    return entries
