"""The second-factor and MFA-challenge adapters on SQLite and PostgreSQL: single use holds
under concurrency, paging for re-sealing, removal."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import UUID

from dashtam.application.users.commands import RegisterUser
from dashtam.bootstrap import Container
from dashtam.core.clock import utcnow
from dashtam.core.result import Success
from dashtam.domain.auth.second_factor import MfaChallenge, RecoveryCode, TotpFactor
from dashtam.infrastructure.logging.setup import get_logger
from dashtam.infrastructure.persistence.unit_of_work import SqlUnitOfWork


def uow(container: Container) -> SqlUnitOfWork:
    return SqlUnitOfWork(
        database=container.database, logger=get_logger("t"), signer=container.audit_signer
    )


async def registered(container: Container, email: str) -> UUID:
    user = await container.register_user_handler().handle(
        RegisterUser(email=email, password="a long passphrase")
    )
    assert isinstance(user, Success), user
    return user.value.id


async def with_factor(container: Container, email: str) -> TotpFactor:
    user_id = await registered(container, email)
    factor = TotpFactor(user_id=user_id, sealed_secret=f"sealed-{email}", confirmed_at=utcnow())
    async with uow(container) as work:
        added = (await work.second_factors.add_totp(factor)).unwrap()
        (await work.commit()).unwrap()
    return added


async def use_step(container: Container, factor_id: UUID, step: int) -> bool:
    async with uow(container) as work:
        won = (await work.second_factors.use_step(factor_id, step)).unwrap()
        (await work.commit()).unwrap()
    return won


async def test_a_time_step_is_used_once_and_never_an_earlier_one(container: Container) -> None:
    factor = await with_factor(container, "ada@example.com")
    assert await use_step(container, factor.id, 100) is True
    assert await use_step(container, factor.id, 100) is False
    assert await use_step(container, factor.id, 99) is False
    assert await use_step(container, factor.id, 101) is True
    async with uow(container) as work:
        stored = (await work.second_factors.get_totp(factor.user_id)).unwrap()
    assert stored is not None
    assert stored.last_used_step == 101


async def test_two_transactions_racing_for_one_step_let_exactly_one_win(
    container: Container,
) -> None:
    factor = await with_factor(container, "ada@example.com")
    results = await asyncio.gather(*(use_step(container, factor.id, 7) for _ in range(4)))
    assert sorted(results) == [False, False, False, True]


async def test_recovery_codes_are_found_by_selector_and_used_once(container: Container) -> None:
    factor = await with_factor(container, "ada@example.com")
    codes = [
        RecoveryCode(user_id=factor.user_id, selector=f"s{i:03d}", code_hash=f"hash-{i}")
        for i in range(10)
    ]
    async with uow(container) as work:
        (await work.second_factors.replace_recovery_codes(factor.user_id, codes)).unwrap()
        (await work.commit()).unwrap()

    async def use(code_id: UUID) -> bool:
        async with uow(container) as work:
            won = (await work.second_factors.use_recovery_code(code_id, now=utcnow())).unwrap()
            (await work.commit()).unwrap()
        return won

    async with uow(container) as work:
        found = (await work.second_factors.find_recovery_code(factor.user_id, "s004")).unwrap()
        missing = (await work.second_factors.find_recovery_code(factor.user_id, "nope")).unwrap()
    assert found is not None
    assert (found.code_hash, missing) == ("hash-4", None)
    assert sorted(await asyncio.gather(use(found.id), use(found.id))) == [False, True]
    async with uow(container) as work:
        assert (await work.second_factors.unused_recovery_codes(factor.user_id)).unwrap() == 9
        again = (await work.second_factors.find_recovery_code(factor.user_id, "s004")).unwrap()
    assert again is not None
    assert again.used_at is not None


async def test_removing_the_factor_takes_its_recovery_codes(container: Container) -> None:
    factor = await with_factor(container, "ada@example.com")
    other = await with_factor(container, "bob@example.com")
    async with uow(container) as work:
        for owner in (factor.user_id, other.user_id):
            codes = [RecoveryCode(user_id=owner, selector="abcd", code_hash="h")]
            (await work.second_factors.replace_recovery_codes(owner, codes)).unwrap()
        (await work.commit()).unwrap()
    async with uow(container) as work:
        assert (await work.second_factors.remove_all(factor.user_id)).unwrap() is True
        assert (await work.second_factors.remove_all(factor.user_id)).unwrap() is False
        (await work.commit()).unwrap()
    async with uow(container) as work:
        assert (await work.second_factors.get_totp(factor.user_id)).unwrap() is None
        assert (await work.second_factors.unused_recovery_codes(factor.user_id)).unwrap() == 0
        assert (await work.second_factors.unused_recovery_codes(other.user_id)).unwrap() == 1


async def test_sealed_secrets_come_in_pages_and_can_be_stored_back(container: Container) -> None:
    factors = [await with_factor(container, f"user{i}@example.com") for i in range(5)]
    seen: list[UUID] = []
    after: UUID | None = None
    async with uow(container) as work:
        while True:
            page = (await work.second_factors.sealed_secrets(after=after, limit=2)).unwrap()
            seen += [user_id for user_id, _ in page]
            if len(page) < 2:
                break
            after = page[-1][0]
        (await work.second_factors.store_secret(factors[0].user_id, "resealed")).unwrap()
        (await work.commit()).unwrap()
    assert seen == sorted(f.user_id for f in factors)
    async with uow(container) as work:
        stored = (await work.second_factors.get_totp(factors[0].user_id)).unwrap()
    assert stored is not None
    assert stored.sealed_secret == "resealed"


async def test_a_ticket_is_completed_once_and_counts_its_failures(container: Container) -> None:
    user_id = await registered(container, "ada@example.com")
    challenge = MfaChallenge(
        user_id=user_id, ticket_hash="f" * 64, expires_at=utcnow() + timedelta(minutes=5)
    )
    async with uow(container) as work:
        (await work.mfa_challenges.add(challenge)).unwrap()
        (await work.commit()).unwrap()
    async with uow(container) as work:
        (await work.mfa_challenges.count_failure(challenge.id)).unwrap()
        (await work.commit()).unwrap()

    async def complete() -> bool:
        async with uow(container) as work:
            won = (await work.mfa_challenges.complete(challenge.id, now=utcnow())).unwrap()
            (await work.commit()).unwrap()
        return won

    assert sorted(await asyncio.gather(complete(), complete())) == [False, True]
    async with uow(container) as work:
        stored = (await work.mfa_challenges.find_by_hash("f" * 64)).unwrap()
        assert (await work.mfa_challenges.find_by_hash("0" * 64)).unwrap() is None
    assert stored is not None
    assert stored.failures == 1
    assert stored.completed_at is not None
    assert not stored.is_open(utcnow())
