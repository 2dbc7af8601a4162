"""Log-in throttling: failures are counted in the database, per account and per ip."""

from __future__ import annotations

import hashlib
from datetime import datetime

from dashtam.application.unit_of_work import UnitOfWork
from dashtam.core.errors import Error, RateLimitedError
from dashtam.core.result import Failure, Result, Success
from dashtam.core.validation import fold_case, normalize_email
from dashtam.domain.auth.entities import ThrottlePolicy


def account_key(email: str) -> str:
    """A stable key for an email, known account or not; the raw address is not stored.

    Keyed on the same canonical form that finds the account: any other spelling of the
    address (case, width, compatibility forms) lands on the same counter.
    """
    parsed = normalize_email(email)
    # Input that does not parse reaches no account; folding it still groups its variants.
    canonical = parsed.value if isinstance(parsed, Success) else fold_case(email.strip())
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


async def check_throttle(
    uow: UnitOfWork,
    policy: ThrottlePolicy,
    *,
    key: str,
    ip_address: str | None,
    now: datetime,
) -> Result[None, Error]:
    """``RateLimitedError`` (with the seconds to wait) when the account or the ip is throttled."""
    since = now - policy.window
    account = await uow.login_attempts.account_failures(key, since=since)
    if isinstance(account, Failure):
        return account
    waits = [policy.retry_after(account.value, limit=policy.max_account_failures, now=now)]
    if ip_address is not None:
        by_ip = await uow.login_attempts.ip_failures(ip_address, since=since)
        if isinstance(by_ip, Failure):
            return by_ip
        waits.append(policy.retry_after(by_ip.value, limit=policy.max_ip_failures, now=now))
    wait = max((w for w in waits if w is not None), default=None)
    if wait is None:
        return Success(None)
    return Failure(
        RateLimitedError(
            "too many failed attempts; try again later",
            retry_after_seconds=wait,
        )
    )
