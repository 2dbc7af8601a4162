"""In-memory second-factor and MFA-challenge repositories (the SQL adapters' twins).

Writes are staged and become visible to other transactions on ``apply_staged()``; the
conditional updates (a time step, a recovery code, a ticket used once) are checked again at
commit, as the SQL adapters' UPDATE ... WHERE would be.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from dashtam.core.errors import ConflictError, Error, NotFoundError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.auth.second_factor import MfaChallenge, RecoveryCode, TotpFactor
from tests.fakes.auth import duplicate
from tests.fakes.faults import Faults

_STALE = ConflictError(
    "the second factor was changed by another request; retry", code="stale_version"
)
_GONE = object()


class FakeSecondFactorRepository:
    def __init__(
        self,
        *,
        factors: dict[UUID, TotpFactor],
        codes: dict[UUID, RecoveryCode],
        faults: Faults | None = None,
    ) -> None:
        self.factors = factors  # by user id
        self.codes = codes
        self._faults = faults or Faults()
        self._factors: dict[UUID, TotpFactor | object] = {}
        self._codes: dict[UUID, RecoveryCode | object] = {}
        self._claimed_steps: list[tuple[UUID, int]] = []  # (user id, step)
        self._claimed_codes: list[UUID] = []

    def _factor(self, user_id: UUID) -> TotpFactor | None:
        staged = self._factors.get(user_id, self.factors.get(user_id))
        return staged if isinstance(staged, TotpFactor) else None

    def _visible_codes(self) -> list[RecoveryCode]:
        merged = {**self.codes, **self._codes}
        return [code for code in merged.values() if isinstance(code, RecoveryCode)]

    async def get_totp(self, user_id: UUID) -> Result[TotpFactor | None, Error]:
        if (fault := self._faults.take("second_factors.get_totp")) is not None:
            return Failure(fault)
        factor = self._factor(user_id)
        return Success(replace(factor) if factor is not None else None)

    async def add_totp(self, factor: TotpFactor) -> Result[TotpFactor, Error]:
        if self._factor(factor.user_id) is not None:
            return Failure(duplicate())
        self._factors[factor.user_id] = replace(factor)
        return Success(replace(factor))

    async def update_totp(self, factor: TotpFactor) -> Result[TotpFactor, Error]:
        current = self._factor(factor.user_id)
        if current is None:
            return Failure(NotFoundError("no authenticator is enrolled"))
        if current.version != factor.version:
            return Failure(_STALE)
        stored = replace(factor, version=factor.version + 1)
        self._factors[factor.user_id] = stored
        return Success(replace(stored))

    async def use_step(self, factor_id: UUID, step: int) -> Result[bool, Error]:
        factor = next(
            (
                f
                for f in (self._factor(uid) for uid in {*self.factors, *self._factors})
                if f and f.id == factor_id
            ),
            None,
        )
        if factor is None or not factor.accepts_step(step):
            return Success(False)
        self._factors[factor.user_id] = replace(
            factor, last_used_step=step, version=factor.version + 1
        )
        self._claimed_steps.append((factor.user_id, step))
        return Success(True)

    async def remove_all(self, user_id: UUID) -> Result[bool, Error]:
        existed = self._factor(user_id) is not None
        self._factors[user_id] = _GONE
        for code in self._visible_codes():
            if code.user_id == user_id:
                self._codes[code.id] = _GONE
        return Success(existed)

    async def replace_recovery_codes(
        self, user_id: UUID, codes: Sequence[RecoveryCode]
    ) -> Result[None, Error]:
        for code in self._visible_codes():
            if code.user_id == user_id:
                self._codes[code.id] = _GONE
        for code in codes:
            self._codes[code.id] = code
        return Success(None)

    async def find_recovery_code(
        self, user_id: UUID, selector: str
    ) -> Result[RecoveryCode | None, Error]:
        return Success(
            next(
                (
                    c
                    for c in self._visible_codes()
                    if c.user_id == user_id and c.selector == selector
                ),
                None,
            )
        )

    async def use_recovery_code(self, code_id: UUID, *, now: datetime) -> Result[bool, Error]:
        code = next((c for c in self._visible_codes() if c.id == code_id), None)
        if code is None or code.used_at is not None:
            return Success(False)
        self._codes[code_id] = replace(code, used_at=now)
        self._claimed_codes.append(code_id)
        return Success(True)

    async def unused_recovery_codes(self, user_id: UUID) -> Result[int, Error]:
        return Success(
            sum(1 for c in self._visible_codes() if c.user_id == user_id and c.used_at is None)
        )

    async def sealed_secrets(
        self, *, after: UUID | None, limit: int
    ) -> Result[Sequence[tuple[UUID, str]], Error]:
        factors = (self._factor(uid) for uid in {*self.factors, *self._factors})
        rows = sorted((f.user_id, f.sealed_secret) for f in factors if f is not None)
        return Success([row for row in rows if after is None or row[0] > after][:limit])

    async def store_secret(self, user_id: UUID, sealed: str) -> Result[None, Error]:
        factor = self._factor(user_id)
        if factor is not None:
            self._factors[user_id] = replace(factor, sealed_secret=sealed)
        return Success(None)

    def check_staged(self) -> Error | None:
        # Another transaction used the same step or code since this one read it.
        for user_id, step in self._claimed_steps:
            committed = self.factors.get(user_id)
            if committed is not None and not committed.accepts_step(step):
                return ConflictError("the code was already used", code="conflict")
        for code_id in self._claimed_codes:
            if (code := self.codes.get(code_id)) is not None and code.used_at is not None:
                return ConflictError("the recovery code was already used", code="conflict")
        return None

    def apply_staged(self) -> None:
        for user_id, factor in self._factors.items():
            if isinstance(factor, TotpFactor):
                self.factors[user_id] = factor
            else:
                self.factors.pop(user_id, None)
        for code_id, code in self._codes.items():
            if isinstance(code, RecoveryCode):
                self.codes[code_id] = code
            else:
                self.codes.pop(code_id, None)
        self.discard_staged()

    def discard_staged(self) -> None:
        self._factors.clear()
        self._codes.clear()
        self._claimed_steps.clear()
        self._claimed_codes.clear()


class FakeMfaChallengeRepository:
    def __init__(self, *, table: dict[UUID, MfaChallenge], faults: Faults | None = None) -> None:
        self.table = table
        self._faults = faults or Faults()
        self._staged: dict[UUID, MfaChallenge] = {}
        self._completing: set[UUID] = set()

    def _current(self, challenge_id: UUID) -> MfaChallenge | None:
        return self._staged.get(challenge_id, self.table.get(challenge_id))

    async def add(self, challenge: MfaChallenge) -> Result[MfaChallenge, Error]:
        if (fault := self._faults.take("mfa_challenges.add")) is not None:
            return Failure(fault)
        self._staged[challenge.id] = replace(challenge)
        return Success(challenge)

    async def find_by_hash(self, ticket_hash: str) -> Result[MfaChallenge | None, Error]:
        ids = {*self.table, *self._staged}
        found = next(
            (c for c in (self._current(i) for i in ids) if c and c.ticket_hash == ticket_hash),
            None,
        )
        return Success(replace(found) if found is not None else None)

    async def count_failure(self, challenge_id: UUID) -> Result[None, Error]:
        current = self._current(challenge_id)
        if current is not None:
            self._staged[challenge_id] = replace(current, failures=current.failures + 1)
        return Success(None)

    async def complete(self, challenge_id: UUID, *, now: datetime) -> Result[bool, Error]:
        current = self._current(challenge_id)
        if current is None or current.completed_at is not None:
            return Success(False)
        self._staged[challenge_id] = replace(current, completed_at=now)
        self._completing.add(challenge_id)
        return Success(True)

    def check_staged(self) -> Error | None:
        for challenge_id in self._completing:
            committed = self.table.get(challenge_id)
            if committed is not None and committed.completed_at is not None:
                return ConflictError("the ticket was already used", code="conflict")
        return None

    def apply_staged(self) -> None:
        self.table.update(self._staged)
        self.discard_staged()

    def discard_staged(self) -> None:
        self._staged.clear()
        self._completing.clear()
