"""``UserRepository.search``: the administrators' filtered, cursor-paginated listing."""

from __future__ import annotations

import pytest

from dashtam.core.ids import new_id
from dashtam.domain.users.entities import User
from dashtam.domain.users.repository import UserFilter, UserRepository
from dashtam.domain.users.value_objects import Role
from tests.contracts.harness import Harness
from tests.contracts.user_repository_contract import new_user


async def seed(harness: Harness[UserRepository]) -> list[User]:
    """Five users, added in id order; returns them as stored."""
    people = [
        new_user("alice@example.com", role=Role.ADMIN),
        new_user("bob@Example.org"),
        new_user("a_b@example.com", is_active=False),
        new_user("axb@example.com"),
        new_user("carol@sub.example.com", role=Role.ADMIN, is_active=False),
    ]
    stored = [(await harness.adapter.add(person)).unwrap() for person in people]
    await harness.reopen()
    return stored


def emails(users: object) -> list[str]:
    return [user.email.value for user in users]  # type: ignore[attr-defined]


class UserSearchContract:
    @pytest.fixture
    def harness(self) -> Harness[UserRepository]:
        raise NotImplementedError

    async def test_no_criteria_lists_everyone_in_id_order(
        self, harness: Harness[UserRepository]
    ) -> None:
        people = await seed(harness)
        found = (await harness.adapter.search(UserFilter(), after=None, limit=50)).unwrap()
        assert list(found) == people
        assert [u.id for u in found] == sorted(u.id for u in people)

    @pytest.mark.parametrize(
        ("needle", "expected"),
        [
            (
                "EXAMPLE.COM",
                [
                    "alice@example.com",
                    "a_b@example.com",
                    "axb@example.com",
                    "carol@sub.example.com",
                ],
            ),
            ("example.org", ["bob@example.org"]),
            ("Sub.", ["carol@sub.example.com"]),
            ("a_b", ["a_b@example.com"]),  # "_" is a character, not a LIKE wildcard
            ("%", []),
            ("nobody", []),
        ],
    )
    async def test_email_fragment_is_a_case_insensitive_substring(
        self, harness: Harness[UserRepository], needle: str, expected: list[str]
    ) -> None:
        await seed(harness)
        criteria = UserFilter(email_contains=needle)
        found = (await harness.adapter.search(criteria, after=None, limit=50)).unwrap()
        assert emails(found) == expected

    async def test_role_and_active_filters_combine(self, harness: Harness[UserRepository]) -> None:
        await seed(harness)
        search = harness.adapter.search
        admins = (await search(UserFilter(role=Role.ADMIN), after=None, limit=50)).unwrap()
        assert emails(admins) == ["alice@example.com", "carol@sub.example.com"]
        inactive = (await search(UserFilter(is_active=False), after=None, limit=50)).unwrap()
        assert emails(inactive) == ["a_b@example.com", "carol@sub.example.com"]
        active_users = UserFilter(role=Role.USER, is_active=True)
        assert emails((await search(active_users, after=None, limit=50)).unwrap()) == [
            "bob@example.org",
            "axb@example.com",
        ]
        all_three = UserFilter(email_contains="example.com", role=Role.ADMIN, is_active=True)
        assert emails((await search(all_three, after=None, limit=50)).unwrap()) == [
            "alice@example.com"
        ]

    async def test_pages_follow_the_cursor_without_gaps_or_repeats(
        self, harness: Harness[UserRepository]
    ) -> None:
        people = await seed(harness)
        seen: list[User] = []
        after = None
        for _ in range(len(people)):  # bounded: a cursor that does not advance must fail
            page = (await harness.adapter.search(UserFilter(), after=after, limit=2)).unwrap()
            assert len(page) <= 2
            if not page:
                break
            seen.extend(page)
            after = page[-1].id
        else:
            pytest.fail("the cursor never reached the end")
        assert seen == people

    async def test_cursor_and_filter_together(self, harness: Harness[UserRepository]) -> None:
        people = await seed(harness)
        criteria = UserFilter(role=Role.ADMIN)
        page = (await harness.adapter.search(criteria, after=people[0].id, limit=1)).unwrap()
        assert emails(page) == ["carol@sub.example.com"]
        rest = (await harness.adapter.search(criteria, after=page[0].id, limit=1)).unwrap()
        assert list(rest) == []
        unknown_cursor = (await harness.adapter.search(criteria, after=new_id(), limit=5)).unwrap()
        assert list(unknown_cursor) == []  # a fresh UUIDv7 sorts after every stored id
