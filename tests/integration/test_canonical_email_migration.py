"""Migration 0006: stored emails are re-normalised to the canonical form, clashes stop it."""

# ruff: noqa: RUF001 - look-alike (fullwidth) characters are what these tests are about

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from dashtam.core.ids import new_id
from dashtam.domain.users.value_objects import Email
from dashtam.infrastructure.persistence import migrator

BEFORE = "0005_audit_integrity"
AFTER = "0006_canonical_email"

_users = sa.table(
    "users",
    sa.column("id", sa.Uuid()),
    sa.column("email", sa.String()),
    sa.column("password_hash", sa.String()),
    sa.column("role", sa.String()),
    sa.column("is_active", sa.Boolean()),
)

# As the earlier code stored them: email-validator's normalised form, lower-cased.
LEGACY = {
    "ａｄａ@example.com": "ada@example.com",  # fullwidth local part
    "straße@example.com": "strasse@example.com",
    "ﬁle@bücher.example": "file@bücher.example",
    "plain@example.com": "plain@example.com",
}


async def _insert(url: str, emails: list[str]) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                sa.insert(_users),
                [
                    {
                        "id": new_id(),
                        "email": email,
                        "password_hash": "x",
                        "role": "user",
                        "is_active": True,
                    }
                    for email in emails
                ],
            )
    finally:
        await engine.dispose()


async def _emails(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return set((await connection.scalars(sa.select(_users.c.email))).all())
    finally:
        await engine.dispose()


async def test_stored_emails_become_the_form_that_log_in_looks_up(
    empty_database_url: str,
) -> None:
    migrator.upgrade(empty_database_url, BEFORE)
    await _insert(empty_database_url, list(LEGACY))

    migrator.upgrade(empty_database_url, AFTER)

    assert await _emails(empty_database_url) == set(LEGACY.values())
    for canonical in LEGACY.values():
        assert Email.parse(canonical).unwrap().value == canonical
    migrator.downgrade(empty_database_url, BEFORE)  # lossy, so a no-op, but it must run
    assert await _emails(empty_database_url) == set(LEGACY.values())


async def test_rows_that_fold_to_one_address_stop_the_upgrade_unchanged(
    empty_database_url: str,
) -> None:
    migrator.upgrade(empty_database_url, BEFORE)
    clashing = ["ａｄａ@example.com", "ada@example.com", "straße@example.com"]
    await _insert(empty_database_url, clashing)

    with pytest.raises(RuntimeError, match="one address"):
        migrator.upgrade(empty_database_url, AFTER)

    assert await _emails(empty_database_url) == set(clashing)
    assert BEFORE in migrator.current(empty_database_url)
