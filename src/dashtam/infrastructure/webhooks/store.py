"""The sender's statements: claim due deliveries, then record what each attempt did.

A claim is a short transaction of its own: it picks due rows (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises claimers), counts the attempt and
moves ``next_attempt_at`` past the send's longest possible duration. That lease is what keeps
another sender off the row while this one posts it, with no transaction held open over HTTP.
A sender that dies mid-send loses nothing: the lease runs out and the row is due again
(at least once). Outcomes are recorded only for the attempt that was claimed, so a sender
whose lease ran out cannot overwrite a newer attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.domain.webhooks.entities import DeliveryStatus, EndpointStatus
from dashtam.infrastructure.persistence.models.webhooks import (
    WebhookDeliveryModel,
    WebhookEndpointModel,
)

_D = WebhookDeliveryModel
_E = WebhookEndpointModel


@dataclass(frozen=True, slots=True, kw_only=True)
class Claimed:
    """A delivery this sender may post now; ``attempt`` counts this one (1 = the first)."""

    id: UUID
    endpoint_id: UUID
    event_id: UUID
    event_type: str
    payload: dict[str, Any]
    attempt: int
    url: str
    sealed_secret: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempted:
    """What one attempt did; ``retry_at`` None with ``delivered`` False: given up (failed)."""

    claimed: Claimed
    delivered: bool
    status_code: int | None
    error: str | None
    retry_at: datetime | None


async def claim(
    session: AsyncSession, *, now: datetime, lease: timedelta, limit: int
) -> list[Claimed]:
    """Take up to ``limit`` due deliveries of active endpoints, the longest waiting first."""
    query = (
        select(_D.id, _D.endpoint_id, _D.event_id, _D.event_type, _D.payload, _D.attempts)
        .add_columns(_E.url, _E.secret)
        .join(_E, _E.id == _D.endpoint_id)
        .where(
            _D.status == DeliveryStatus.PENDING.value,
            _D.next_attempt_at <= now,
            _E.status == EndpointStatus.ACTIVE.value,
        )
        .order_by(_D.next_attempt_at, _D.id)
        .limit(limit)
        # Rows another sender is claiming are skipped, not waited for.
        .with_for_update(of=_D, skip_locked=True)
    )
    rows = (await session.execute(query)).all()
    if not rows:
        return []
    await session.execute(
        update(_D)
        .where(_D.id.in_([row.id for row in rows]))
        .values(attempts=_D.attempts + 1, last_attempt_at=now, next_attempt_at=now + lease)
        .execution_options(synchronize_session=False)
    )
    return [
        Claimed(
            id=row.id,
            endpoint_id=row.endpoint_id,
            event_id=row.event_id,
            event_type=row.event_type,
            payload=dict(row.payload),
            attempt=row.attempts + 1,
            url=row.url,
            sealed_secret=row.secret,
        )
        for row in rows
    ]


async def record(session: AsyncSession, attempted: Attempted, *, now: datetime) -> bool:
    """Write one attempt's outcome; False when the claim was lost (a newer attempt owns it)."""
    done = attempted.delivered
    status = (
        DeliveryStatus.DELIVERED
        if done
        else (DeliveryStatus.PENDING if attempted.retry_at is not None else DeliveryStatus.FAILED)
    )
    result = await session.execute(
        update(_D)
        .where(
            _D.id == attempted.claimed.id,
            _D.attempts == attempted.claimed.attempt,
            _D.status == DeliveryStatus.PENDING.value,
        )
        .values(
            status=status.value,
            last_status_code=attempted.status_code,
            last_error=None if done else (attempted.error or "failed")[:500],
            next_attempt_at=attempted.retry_at,
            delivered_at=now if done else None,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def reset_failures(session: AsyncSession, endpoint_ids: Sequence[UUID]) -> None:
    """A delivered event clears its endpoint's run of failures."""
    if not endpoint_ids:
        return
    await session.execute(
        update(_E)
        .where(_E.id.in_(endpoint_ids), _E.consecutive_failures != 0)
        .values(consecutive_failures=0)
        .execution_options(synchronize_session=False)
    )


async def count_failure(
    session: AsyncSession, endpoint_id: UUID, *, disable_after: int, reason: str, now: datetime
) -> bool:
    """One more delivery given up on; True when that run of failures disables the endpoint."""
    failures = _E.consecutive_failures + 1
    await session.execute(
        update(_E)
        .where(_E.id == endpoint_id)
        .values(consecutive_failures=failures)
        .execution_options(synchronize_session=False)
    )
    disabled = await session.execute(
        update(_E)
        .where(
            _E.id == endpoint_id,
            _E.status == EndpointStatus.ACTIVE.value,
            _E.consecutive_failures >= disable_after,
        )
        # A state its owner sees: a new version, so a PATCH built on the old one is stale.
        .values(
            status=EndpointStatus.DISABLED.value,
            disabled_reason=reason[:200],
            version=_E.version + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(disabled, "rowcount", 0))
