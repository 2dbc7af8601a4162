"""What a sync's end does to its connection: the schedule, the status, the events.

A failure is classified once, here: whether the user must act (``needs_attention``, no
retry before the normal interval) or it may pass by itself (backoff and retry).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dashtam.application.live.policy import SyncPolicy
from dashtam.core.errors import Error, RateLimitedError, UpstreamError
from dashtam.domain.protocols.credentials import CREDENTIALS_UNREADABLE
from dashtam.domain.providers.entities import ConnectionStatus, ProviderConnection
from dashtam.domain.providers.events import ConnectionNeedsAttention, SyncFailed
from dashtam.domain.providers.sync_state import SyncOutcome

# Codes after which only the user can make the next sync work.
_USER_MUST_ACT = {
    "bridge_access_revoked": (
        "The SimpleFIN server refused the access: it was revoked or expired. Connect the "
        "account again with a new setup token."
    ),
    "bridge_payment_required": (
        "The SimpleFIN server asks for payment before it answers again. Renew the "
        "subscription at the bridge."
    ),
    CREDENTIALS_UNREADABLE: (
        "Dashtam can no longer open this connection's stored access (its key is not "
        "configured). Restore DASHTAM_CREDENTIALS_KEY or connect the account again."
    ),
}


@dataclass(frozen=True, slots=True)
class FailedSync:
    error: Error
    outcome: SyncOutcome
    events: tuple[SyncFailed | ConnectionNeedsAttention, ...]


def failed(
    connection: ProviderConnection, error: Error, *, now: datetime, policy: SyncPolicy
) -> FailedSync:
    attention = _USER_MUST_ACT.get(error.code)
    failures = connection.sync_failures + 1
    message: str | None
    if attention is not None:
        status, message = ConnectionStatus.NEEDS_ATTENTION, attention
        next_at = policy.after_success(now)
        shown: Error = UpstreamError(attention, code=error.code)
    else:
        status, message = connection.status, connection.attention_message
        next_at = policy.after_failure(now, failures)
        shown = UpstreamError(
            f"{error.message} Dashtam tries again by itself.".strip(), code=error.code
        )
    events: list[SyncFailed | ConnectionNeedsAttention] = [
        SyncFailed(
            user_id=connection.user_id,
            connection_id=connection.id,
            code=error.code,
            message=shown.message[:500],
            will_retry=attention is None,
        )
    ]
    if attention is not None and connection.attention_message != attention:
        events.append(
            ConnectionNeedsAttention(
                user_id=connection.user_id, connection_id=connection.id, message=attention
            )
        )
    outcome = SyncOutcome(
        status=status.value,
        attention_message=message,
        last_sync_at=connection.last_sync_at,
        last_sync_attempt_at=now,
        next_sync_at=next_at,
        sync_failures=failures,
    )
    return FailedSync(shown, outcome, tuple(events))


def over_budget(connection: ProviderConnection, *, now: datetime, policy: SyncPolicy) -> FailedSync:
    """The day's requests are spent: the next sync waits for the next day, no failure counted."""
    next_day = policy.next_budget_day(now)
    error = RateLimitedError(
        f"this connection used its {policy.max_requests_per_day} requests to the SimpleFIN "
        "server for today; the next sync runs after midnight UTC",
        code="sync_limit_reached",
        retry_after_seconds=max(1, int((next_day - now).total_seconds())),
    )
    outcome = SyncOutcome(
        status=connection.status.value,
        attention_message=connection.attention_message,
        last_sync_at=connection.last_sync_at,
        last_sync_attempt_at=now,
        next_sync_at=max(next_day, connection.next_sync_at or next_day),
        sync_failures=connection.sync_failures,
    )
    return FailedSync(error, outcome, ())


def succeeded(
    connection: ProviderConnection,
    messages: tuple[str, ...],
    *,
    now: datetime,
    policy: SyncPolicy,
) -> tuple[SyncOutcome, ConnectionNeedsAttention | None]:
    """The source's messages (if any) become the connection's attention message."""
    message = " ".join(messages)[:500] or None
    status = ConnectionStatus.NEEDS_ATTENTION if message else ConnectionStatus.ACTIVE
    outcome = SyncOutcome(
        status=status.value,
        attention_message=message,
        last_sync_at=now,
        last_sync_attempt_at=now,
        next_sync_at=policy.after_success(now),
        sync_failures=0,
    )
    event = None
    if message is not None and message != connection.attention_message:
        event = ConnectionNeedsAttention(
            user_id=connection.user_id, connection_id=connection.id, message=message
        )
    return outcome, event
