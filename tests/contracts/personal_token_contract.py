"""The ``PersonalTokenRepository`` contract, written once; ``test_auth_repositories`` runs it."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta, timezone
from uuid import UUID

import pytest

from dashtam.core.errors import ConflictError, NotFoundError
from dashtam.core.ids import new_id
from dashtam.core.result import Success
from dashtam.domain.personal_tokens.entities import PersonalAccessToken, TokenScope
from tests.contracts.harness import Harness
from tests.contracts.repositories import Repositories
from tests.contracts.session_repository_contract import NOW, add_user
from tests.contracts.user_repository_contract import assert_utc, error_of


def new_token(user_id: UUID, raw: str = "token-1", **overrides: object) -> PersonalAccessToken:
    fields: dict[str, object] = {
        "user_id": user_id,
        "name": "nightly export",
        "token_hash": hashlib.sha256(raw.encode()).hexdigest(),
        "token_hint": raw[-4:],
        "scopes": frozenset({TokenScope.READ}),
        "expires_at": NOW + timedelta(days=30),
        "created_at": NOW,
        "updated_at": NOW,
    }
    fields.update(overrides)
    return PersonalAccessToken(**fields)  # type: ignore[arg-type]


def hash_of(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class PersonalTokenRepositoryContract:
    @pytest.fixture
    def harness(self) -> Harness[Repositories]:
        raise NotImplementedError

    async def test_add_then_get_round_trips_every_field_in_utc(
        self, harness: Harness[Repositories]
    ) -> None:
        user = await add_user(harness.adapter)
        plus_two = timezone(timedelta(hours=2))
        token = new_token(
            user.id,
            name="Ünïcode name ✓",
            scopes=frozenset(TokenScope),
            expires_at=(NOW + timedelta(days=5)).astimezone(plus_two),
            created_at=NOW.astimezone(plus_two),
            updated_at=NOW.astimezone(plus_two),
        )
        assert (await harness.adapter.personal_tokens.add(token)).unwrap() == token

        stored = (await (await harness.reopen()).personal_tokens.get(token.id)).unwrap()
        assert stored == token
        assert stored is not None
        for moment in (stored.created_at, stored.updated_at, stored.expires_at):
            assert_utc(moment)
        assert (stored.last_used_at, stored.revoked_at, stored.version) == (None, None, 1)
        assert await harness.adapter.personal_tokens.get(new_id()) == Success(None)

    async def test_find_with_user_reads_the_token_and_its_owner_by_digest(
        self, harness: Harness[Repositories]
    ) -> None:
        owner = await add_user(harness.adapter)
        other = await add_user(harness.adapter, "other@example.com")
        mine = new_token(owner.id)
        (await harness.adapter.personal_tokens.add(mine)).unwrap()
        (await harness.adapter.personal_tokens.add(new_token(other.id, "token-2"))).unwrap()

        reopened = await harness.reopen()
        found = (await reopened.personal_tokens.find_with_user(hash_of("token-1"))).unwrap()
        assert found is not None
        token, user = found
        assert token == mine
        assert user == (await reopened.users.get(owner.id)).unwrap()
        assert (await reopened.personal_tokens.find_with_user(hash_of("nope"))).unwrap() is None

    async def test_a_digest_is_stored_once(self, harness: Harness[Repositories]) -> None:
        user = await add_user(harness.adapter)
        (await harness.adapter.personal_tokens.add(new_token(user.id))).unwrap()
        repositories = await harness.reopen()
        error = error_of(await repositories.personal_tokens.add(new_token(user.id)))
        assert isinstance(error, ConflictError)

    async def test_list_for_user_is_newest_first_in_pages_and_only_theirs(
        self, harness: Harness[Repositories]
    ) -> None:
        owner = await add_user(harness.adapter)
        other = await add_user(harness.adapter, "other@example.com")
        made = [new_token(owner.id, f"token-{n}") for n in range(5)]
        made[1].revoke("revoked_by_user", NOW)
        made[2].expires_at = NOW - timedelta(days=1)
        for token in made:
            (await harness.adapter.personal_tokens.add(token)).unwrap()
        (await harness.adapter.personal_tokens.add(new_token(other.id, "theirs"))).unwrap()

        repositories = await harness.reopen()
        first = await repositories.personal_tokens.list_for_user(owner.id, after=None, limit=3)
        page = first.unwrap()
        assert [t.id for t in page] == [t.id for t in reversed(made)][:3]
        rest = await repositories.personal_tokens.list_for_user(
            owner.id, after=page[-1].id, limit=3
        )
        assert [t.id for t in rest.unwrap()] == [made[1].id, made[0].id]
        none = await repositories.personal_tokens.list_for_user(new_id(), after=None, limit=3)
        assert none == Success([])

    async def test_count_active_leaves_out_revoked_and_expired_tokens(
        self, harness: Harness[Repositories]
    ) -> None:
        user = await add_user(harness.adapter)
        revoked = new_token(user.id, "token-r")
        revoked.revoke("revoked_by_user", NOW)
        for token in (
            new_token(user.id, "token-a"),
            new_token(user.id, "token-b"),
            revoked,
            new_token(user.id, "token-e", expires_at=NOW),
        ):
            (await harness.adapter.personal_tokens.add(token)).unwrap()
        repositories = await harness.reopen()
        assert await repositories.personal_tokens.count_active(user.id, now=NOW) == Success(2)
        assert await repositories.personal_tokens.count_active(new_id(), now=NOW) == Success(0)

    async def test_update_persists_a_revocation_and_bumps_the_version(
        self, harness: Harness[Repositories]
    ) -> None:
        user = await add_user(harness.adapter)
        token = (await harness.adapter.personal_tokens.add(new_token(user.id))).unwrap()
        repositories = await harness.reopen()
        assert token.revoke("revoked_by_user", NOW + timedelta(hours=1))
        assert (await repositories.personal_tokens.update(token)).unwrap().version == 2

        stored = (await (await harness.reopen()).personal_tokens.get(token.id)).unwrap()
        assert stored is not None
        assert (stored.revoked_at, stored.revoked_reason) == (
            NOW + timedelta(hours=1),
            "revoked_by_user",
        )
        assert stored.version == 2
        assert not stored.is_active(NOW)

    async def test_stale_update_is_a_conflict_and_a_missing_one_not_found(
        self, harness: Harness[Repositories]
    ) -> None:
        user = await add_user(harness.adapter)
        token = (await harness.adapter.personal_tokens.add(new_token(user.id))).unwrap()
        repositories = await harness.reopen()
        first = replace(token)
        first.revoke("revoked_by_user", NOW)
        (await repositories.personal_tokens.update(first)).unwrap()
        second = replace(token)
        second.revoke("deactivated", NOW)
        stale = error_of(await repositories.personal_tokens.update(second))
        assert (type(stale), stale.code) == (ConflictError, "stale_version")
        missing = error_of(await repositories.personal_tokens.update(new_token(user.id, "x")))
        assert isinstance(missing, NotFoundError)

    async def test_revoke_all_revokes_each_live_token_of_the_user_once(
        self, harness: Harness[Repositories]
    ) -> None:
        user = await add_user(harness.adapter)
        other = await add_user(harness.adapter, "other@example.com")
        live = [new_token(user.id, f"token-{n}") for n in range(2)]
        earlier = new_token(user.id, "token-r")
        earlier.revoke("revoked_by_user", NOW - timedelta(days=1))
        theirs = new_token(other.id, "theirs")
        for token in (*live, earlier, theirs):
            (await harness.adapter.personal_tokens.add(token)).unwrap()

        repositories = await harness.reopen()
        later = NOW + timedelta(hours=1)
        revoked = await repositories.personal_tokens.revoke_all(
            user.id, reason="account_closed", now=later
        )
        assert sorted(revoked.unwrap()) == sorted(t.id for t in live)

        repositories = await harness.reopen()
        for token in live:
            stored = (await repositories.personal_tokens.get(token.id)).unwrap()
            assert stored is not None
            assert (stored.revoked_at, stored.revoked_reason) == (later, "account_closed")
            assert stored.version == 2
        kept = (await repositories.personal_tokens.get(earlier.id)).unwrap()
        assert kept is not None
        assert kept.revoked_reason == "revoked_by_user"  # the first revocation stands
        untouched = (await repositories.personal_tokens.get(theirs.id)).unwrap()
        assert untouched is not None
        assert untouched.revoked_at is None

    async def test_mark_used_only_moves_forward_and_never_bumps_the_version(
        self, harness: Harness[Repositories]
    ) -> None:
        user = await add_user(harness.adapter)
        first = (await harness.adapter.personal_tokens.add(new_token(user.id))).unwrap()
        second = (await harness.adapter.personal_tokens.add(new_token(user.id, "t-2"))).unwrap()
        repositories = await harness.reopen()
        uses = {first.id: NOW + timedelta(minutes=5), second.id: NOW + timedelta(minutes=1)}
        assert await repositories.personal_tokens.mark_used(uses) == Success(None)
        repositories = await harness.reopen()
        older = {first.id: NOW + timedelta(minutes=2), new_id(): NOW}
        assert await repositories.personal_tokens.mark_used(older) == Success(None)
        assert await repositories.personal_tokens.mark_used({}) == Success(None)

        repositories = await harness.reopen()
        for token, expected in ((first, uses[first.id]), (second, uses[second.id])):
            stored = (await repositories.personal_tokens.get(token.id)).unwrap()
            assert stored is not None
            assert stored.last_used_at == expected
            assert stored.last_used_at is not None
            assert_utc(stored.last_used_at)
            assert (stored.version, stored.updated_at) == (1, token.updated_at)

    async def test_a_use_does_not_undo_a_revocation_committed_meanwhile(
        self, harness: Harness[Repositories]
    ) -> None:
        user = await add_user(harness.adapter)
        token = (await harness.adapter.personal_tokens.add(new_token(user.id))).unwrap()
        repositories = await harness.reopen()
        token.revoke("revoked_by_user", NOW)
        (await repositories.personal_tokens.update(token)).unwrap()
        repositories = await harness.reopen()
        used = NOW + timedelta(minutes=1)
        (await repositories.personal_tokens.mark_used({token.id: used})).unwrap()

        stored = (await (await harness.reopen()).personal_tokens.get(token.id)).unwrap()
        assert stored is not None
        assert (stored.revoked_at, stored.last_used_at, stored.version) == (NOW, used, 2)

    async def test_a_discarded_add_leaves_nothing(self, harness: Harness[Repositories]) -> None:
        user = await add_user(harness.adapter)
        repositories = await harness.reopen()
        token = new_token(user.id)
        (await repositories.personal_tokens.add(token)).unwrap()
        repositories = await harness.discard()
        assert await repositories.personal_tokens.get(token.id) == Success(None)
