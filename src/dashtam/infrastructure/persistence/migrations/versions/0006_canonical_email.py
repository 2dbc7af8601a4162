"""Canonical email: stored addresses re-normalised to NFKC + IDNA + case folding.

Before this revision an address was stored as email-validator normalised it, lower-cased:
its local part kept compatibility forms (fullwidth letters) and ``lower()`` is not full case
folding ("ß"). The application now looks accounts up (and counts log-in failures) under one
canonical form, so rows must hold that form or their owners could not log in.

The unique index on ``users.email`` then enforces one account per canonical address. When
two existing rows fold to the same address the upgrade stops and names them: which one is
the real account is a decision for an administrator, not for a migration.

Revision ID: 0006_canonical_email
Revises: 0005_audit_integrity
Create Date: 2026-11-25
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_canonical_email"
down_revision: str | None = "0005_audit_integrity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fold(text: str) -> str:
    # A frozen copy of dashtam.core.validation.fold_case: a migration must not change
    # meaning when the application code does.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold()).lower()


def _canonical(stored: str) -> str:
    # Stored domains are already IDNA (UTS 46) mapped; only the local part needs folding.
    local, at, domain = stored.rpartition("@")
    return f"{_fold(local)}{at}{domain}" if at else stored


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, email FROM users")).all()
    owners: defaultdict[str, list[str]] = defaultdict(list)
    for user_id, email in rows:
        owners[_canonical(email)].append(str(user_id))
    clashes = {address: ids for address, ids in owners.items() if len(ids) > 1}
    if clashes:
        listed = "; ".join(f"{sorted(ids)}" for ids in clashes.values())
        raise RuntimeError(
            "these users' emails are one address once case and width are folded: "
            f"{listed}. Change the email of (or close) all but one of each group, then "
            "upgrade again."
        )
    # No clash, so no update below can meet a row holding its new value.
    for _, email in rows:
        canonical = _canonical(email)
        if canonical != email:
            connection.execute(
                sa.text("UPDATE users SET email = :canonical WHERE email = :email"),
                {"canonical": canonical, "email": email},
            )


def downgrade() -> None:
    # Folding is lossy and folded rows are valid for the earlier code too: nothing to undo.
    pass
