"""Signed checkpoints: the chain's head, kept outside the database, signed with Ed25519.

A checkpoint says "at this time the chain ran to seal ``seq`` with head ``head``". Whoever
controls the database but not the signing key can neither forge one nor make the chain agree
with one after cutting its tail or rewriting its history.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from dashtam.infrastructure.audit.signing import AuditKeyring, public_key_id
from dashtam.infrastructure.audit.verification import Checkpointed
from dashtam.infrastructure.security.keys import public_key_text

CHECKPOINT_VERSION = 1
_SIGNED_FIELDS = ("version", "seq", "head", "created_at", "key_id")


class CheckpointFileError(Exception):
    """An anchor file that cannot be read as checkpoints (the message is safe to print)."""


def _signed_bytes(document: dict[str, Any]) -> bytes:
    signed = {name: document.get(name) for name in _SIGNED_FIELDS}
    return json.dumps(signed, sort_keys=True, separators=(",", ":")).encode()


def make_checkpoint(
    keyring: AuditKeyring, *, seq: int, head: str, created_at: datetime
) -> dict[str, Any]:
    key = keyring.signing_key
    public_key = public_key_text(key)
    document: dict[str, Any] = {
        "version": CHECKPOINT_VERSION,
        "seq": seq,
        "head": head,
        "created_at": created_at.isoformat(timespec="microseconds"),
        "key_id": public_key_id(public_key),
    }
    document["public_key"] = public_key
    document["signature"] = key.sign(_signed_bytes(document)).hex()
    return document


def judge(keyring: AuditKeyring, document: dict[str, Any]) -> Checkpointed:
    """The checkpoint with its verdict: trusted only if one of OUR keys signed it."""
    seq, head, created_at = document.get("seq"), document.get("head"), document.get("created_at")
    if not isinstance(seq, int) or not isinstance(head, str) or not isinstance(created_at, str):
        raise CheckpointFileError("a checkpoint lacks its seq, head or created_at")
    # The embedded public key is a convenience for readers, never a reason to trust.
    public_hex = keyring.trusted_public_keys().get(str(document.get("key_id")))
    trusted = False
    if public_hex is not None and isinstance(document.get("signature"), str):
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(
                bytes.fromhex(document["signature"]), _signed_bytes(document)
            )
            trusted = True
        except (InvalidSignature, ValueError):
            trusted = False
    return Checkpointed(seq=seq, head=head, created_at=created_at, trusted=trusted)


def append_checkpoint(path: str, document: dict[str, Any]) -> Path:
    """Append to a JSON-lines file, or add one file to a directory; durable before returning."""
    target = Path(path)
    line = json.dumps(document, sort_keys=True, separators=(",", ":")) + "\n"
    if target.is_dir() or path.endswith(("/", os.sep)):
        target.mkdir(parents=True, exist_ok=True)
        stamp = document["created_at"].replace(":", "").replace("-", "").replace("+", "Z")
        target = target / f"checkpoint-{stamp}-{document['seq']:012d}.json"
        mode = "x"
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        mode = "a"
    with target.open(mode, encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    return target


def read_checkpoints(path: str) -> Iterator[dict[str, Any]]:
    """Every checkpoint in a JSON-lines file or in the ``*.json`` files of a directory."""
    source = Path(path)
    if not source.exists():
        raise CheckpointFileError(f"no checkpoint file or directory at {path}")
    files = sorted(source.glob("*.json")) if source.is_dir() else [source]
    for file in files:
        with file.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    document = json.loads(line)
                except json.JSONDecodeError:
                    raise CheckpointFileError(
                        f"{file.name}, line {number}: not a JSON checkpoint"
                    ) from None
                if not isinstance(document, dict):
                    raise CheckpointFileError(f"{file.name}, line {number}: not a JSON checkpoint")
                yield document
