"""Fixed audit keys for tests that build adapters by hand (the container derives its own)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dashtam.infrastructure.audit.signing import AuditKeyring, AuditRecordSigner

TEST_KEYRING = AuditKeyring.from_secrets(
    [b"test audit mac key"], [Ed25519PrivateKey.from_private_bytes(bytes(range(32)))]
)


def signer_for_tests() -> AuditRecordSigner:
    return AuditRecordSigner(TEST_KEYRING)
