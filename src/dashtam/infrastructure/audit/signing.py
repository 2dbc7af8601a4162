"""Record MACs and keyed seals: what makes an audit record unforgeable without the app's key.

Every record carries ``mac = HMAC(K, canonical record)``, computed by the application before
the row is written, and the id of the key that made it. The sealer later chains records with
``seal = HMAC(K, seq | prev seal | record id | record mac)``. Neither can be made or remade by
someone who holds the database but not the key, which never enters the database.

Records and seals written before MACs existed (``key_id`` NULL) were chained with plain
SHA-256; ``legacy_seal_hash`` keeps that algorithm so those seals still verify.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dashtam.core.config import Settings
from dashtam.domain.audit import AuditEntry
from dashtam.infrastructure.persistence.models.audit import AuditLogModel
from dashtam.infrastructure.security.keys import (
    AUDIT_MAC_LABEL,
    AUDIT_SIGNING_LABEL,
    derive_key,
    key_id,
    load_signing_key,
    public_key_text,
)

GENESIS_HASH = "0" * 64
_RECORD_DOMAIN = b"dashtam-audit-record-v1\n"
_SEAL_DOMAIN = b"dashtam-audit-seal-v1\n"

# The fields a MAC covers, in the form an export carries them (strings, ISO times, JSON).
RECORD_FIELDS = (
    "id",
    "created_at",
    "actor_id",
    "action",
    "outcome",
    "resource_type",
    "resource_id",
    "ip_address",
    "user_agent",
    "trace_id",
    "reason",
    "metadata",
    "key_id",
)


@dataclass(frozen=True, slots=True)
class AuditKeyring:
    """MAC keys by id (the first makes new MACs) and Ed25519 keys for checkpoints."""

    mac_keys: Mapping[str, bytes]
    current_key_id: str
    signing_keys: Sequence[Ed25519PrivateKey]

    @classmethod
    def from_secrets(
        cls, mac_secrets: Sequence[bytes], signing_keys: Sequence[Ed25519PrivateKey]
    ) -> AuditKeyring:
        if not mac_secrets or not signing_keys:
            raise ValueError("at least one MAC key and one signing key are required")
        keys = {key_id(secret): secret for secret in mac_secrets}
        return cls(
            mac_keys=keys, current_key_id=key_id(mac_secrets[0]), signing_keys=tuple(signing_keys)
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditKeyring:
        """Keys as configured; each one unset is derived from the secret key (distinct labels)."""
        secret = settings.secret_key.get_secret_value()
        if settings.audit_key is not None and settings.audit_key.get_secret_value().strip():
            mac_secrets = [
                part.strip().encode()
                for part in settings.audit_key.get_secret_value().split(",")
                if part.strip()
            ]
        else:
            mac_secrets = [derive_key(secret, AUDIT_MAC_LABEL)]
        configured = settings.audit_signing_key
        if configured is not None and configured.get_secret_value().strip():
            text = configured.get_secret_value().strip()
            # A PEM block has no commas; a list of seeds is comma-separated (first signs).
            parts = [text] if text.startswith("-----BEGIN") else text.split(",")
            signing = [load_signing_key(part) for part in parts if part.strip()]
        else:
            signing = [load_signing_key(derive_key(secret, AUDIT_SIGNING_LABEL).hex())]
        return cls.from_secrets(mac_secrets, signing)

    @property
    def current_mac_key(self) -> bytes:
        return self.mac_keys[self.current_key_id]

    @property
    def signing_key(self) -> Ed25519PrivateKey:
        return self.signing_keys[0]

    def trusted_public_keys(self) -> dict[str, str]:
        """Public key (hex) by its id, for every signing key this process trusts."""
        return {
            public_key_id(public_key_text(key)): public_key_text(key) for key in self.signing_keys
        }


def public_key_id(public_key_hex: str) -> str:
    return hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()[:16]


def canonical_number(value: int | float) -> str:
    """One spelling per number, whatever a JSON store gives back (JSONB turns 1e20 into 10**20)."""
    normalized = Decimal(repr(value) if isinstance(value, float) else value).normalize()
    return format(normalized, "f") if normalized == normalized.to_integral() else str(normalized)


def _canonical_json(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return {"$number": canonical_number(value)}
    if isinstance(value, Mapping):
        return {str(key): _canonical_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical_json(item) for item in value]
    return str(value)


def plain_json(value: Mapping[str, Any]) -> dict[str, Any]:
    """Metadata as the JSON column will give it back (UUIDs, dates and the like as strings)."""
    result: dict[str, Any] = json.loads(json.dumps(dict(value), default=str))
    return result


def record_document(row: AuditLogModel) -> dict[str, Any]:
    """The fields a MAC covers, as an export carries them."""
    return values_document(
        {
            "id": row.id,
            "created_at": row.created_at,
            "actor_id": row.actor_id,
            "action": row.action,
            "outcome": row.outcome,
            "resource_type": row.resource_type,
            "resource_id": row.resource_id,
            "ip_address": row.ip_address,
            "user_agent": row.user_agent,
            "trace_id": row.trace_id,
            "reason": row.reason,
            "metadata": row.details,
            "key_id": row.key_id,
        }
    )


def values_document(values: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a MAC covers, from an ``audit_logs`` row's values by column name."""
    actor_id, resource_id = values["actor_id"], values["resource_id"]
    return {
        "id": str(values["id"]),
        "created_at": values["created_at"].astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": str(actor_id) if actor_id else None,
        "action": values["action"],
        "outcome": values["outcome"],
        "resource_type": values["resource_type"],
        "resource_id": str(resource_id) if resource_id else None,
        "ip_address": values["ip_address"],
        "user_agent": values["user_agent"],
        "trace_id": values["trace_id"],
        "reason": values["reason"],
        "metadata": values["metadata"],
        "key_id": values["key_id"],
    }


def canonical_bytes(document: Mapping[str, Any]) -> bytes:
    """Stable bytes of a record document: fixed fields, sorted keys, numbers spelled once."""
    fields = {name: document.get(name) for name in RECORD_FIELDS}
    fields["metadata"] = _canonical_json(fields["metadata"] or {})
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_mac(key: bytes, document: Mapping[str, Any]) -> str:
    return hmac.new(key, _RECORD_DOMAIN + canonical_bytes(document), hashlib.sha256).hexdigest()


def seal_mac(key: bytes, *, seq: int, prev_hash: str, audit_id: str, mac: str) -> str:
    message = f"{seq}\n{prev_hash}\n{audit_id}\n{mac}".encode()
    return hmac.new(key, _SEAL_DOMAIN + message, hashlib.sha256).hexdigest()


def legacy_canonical(document: Mapping[str, Any]) -> bytes:
    """The canonical form of the unkeyed chain (records sealed before MACs existed)."""
    legacy = {name: document.get(name) for name in RECORD_FIELDS if name != "key_id"}
    return json.dumps(legacy, sort_keys=True, separators=(",", ":"), default=str).encode()


def legacy_seal_hash(prev_hash: str, document: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + legacy_canonical(document)).hexdigest()


def macs_match(expected: str, actual: str | None) -> bool:
    return actual is not None and hmac.compare_digest(expected, actual)


class AuditRecordSigner:
    """Turns audit entries into rows that carry their MAC (the only way rows are made)."""

    def __init__(self, keyring: AuditKeyring) -> None:
        self._keyring = keyring

    @property
    def keyring(self) -> AuditKeyring:
        return self._keyring

    def values(self, entry: AuditEntry) -> dict[str, Any]:
        """The ``audit_logs`` row of ``entry`` by column name, MAC included: what a Core
        insert takes, without the ORM instance (about half the cost of signing one)."""
        values: dict[str, Any] = {
            "id": entry.id,
            "created_at": entry.occurred_at,
            "actor_id": entry.actor_id,
            "action": entry.action.value,
            "outcome": entry.outcome.value,
            "resource_type": entry.resource_type.value,
            "resource_id": entry.resource_id,
            "ip_address": entry.ip_address,
            "user_agent": (entry.user_agent or "")[:512] or None,
            "trace_id": entry.trace_id,
            "reason": entry.reason,
            # Stored exactly as the MAC saw it: what the JSON column returns must hash the same.
            "metadata": plain_json(entry.metadata) if entry.metadata else {},
            "key_id": self._keyring.current_key_id,
        }
        values["mac"] = record_mac(self._keyring.current_mac_key, values_document(values))
        return values

    def row(self, entry: AuditEntry) -> AuditLogModel:
        """The same row as an ORM instance (for a session's ``add``)."""
        values = self.values(entry)
        values["details"] = values.pop("metadata")
        return AuditLogModel(**values)

    def check(self, row: AuditLogModel) -> bool:
        """Whether ``row`` carries a MAC made by one of our keys over its current content."""
        return mac_is_valid(self._keyring, record_document(row), row.mac)


def mac_is_valid(keyring: AuditKeyring, document: Mapping[str, Any], mac: str | None) -> bool:
    key = keyring.mac_keys.get(str(document.get("key_id")))
    return key is not None and macs_match(record_mac(key, document), mac)
