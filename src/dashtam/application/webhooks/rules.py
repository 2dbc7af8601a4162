"""Input rules of webhook endpoints, checked before any transaction."""

from __future__ import annotations

import secrets

from dashtam.core.errors import Error, ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.core.text import quoted
from dashtam.domain.webhooks.destinations import DestinationGuard, parse_destination
from dashtam.domain.webhooks.entities import MAX_DESCRIPTION_LENGTH, WebhookEventType

SECRET_PREFIX = "whsec_"  # noqa: S105 - a public prefix, not a secret
SECRET_BYTES = 32


def new_secret() -> str:
    """A signing secret: 32 random bytes, URL-safe, recognisable by its prefix."""
    return SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def secret_context(endpoint_id: object) -> str:
    """What a sealed secret is bound to: it opens for this endpoint's row only."""
    return f"webhook:{endpoint_id}"


def event_types(requested: tuple[str, ...]) -> Result[tuple[WebhookEventType, ...], Error]:
    """The subscribed types, deduplicated in the order given; at least one, all known."""
    if not requested:
        return Failure(
            ValidationError(
                "events must name at least one event type",
                code="events_required",
                details={"field": "events"},
            )
        )
    chosen: list[WebhookEventType] = []
    for name in requested:
        try:
            kind = WebhookEventType(name)
        except ValueError:
            known = ", ".join(t.value for t in WebhookEventType)
            return Failure(
                ValidationError(
                    f"unknown event type {quoted(name)} (known: {known})",
                    code="unknown_event_type",
                    details={"field": "events"},
                )
            )
        if kind not in chosen:
            chosen.append(kind)
    return Success(tuple(chosen))


def description(text: str | None) -> Result[str | None, Error]:
    cleaned = (text or "").strip()
    if len(cleaned) > MAX_DESCRIPTION_LENGTH:
        return Failure(
            ValidationError(
                f"the description is longer than {MAX_DESCRIPTION_LENGTH} characters",
                code="description_too_long",
                details={"field": "description"},
            )
        )
    return Success(cleaned or None)


async def allowed_url(url: str, guard: DestinationGuard) -> Result[str, Error]:
    """``url`` if its form is acceptable and its host resolves to allowed addresses only."""
    match parse_destination(url):
        case Failure() as refused:
            return refused
        case Success(destination):
            match await guard.resolve(destination):
                case Failure() as refused:
                    return refused
    return Success(url)


def safe_target(url: str) -> str:
    """What an audit record may say of a URL: scheme and host (a path or query may hold a
    receiver's own token)."""
    match parse_destination(url):
        case Success(destination):
            return f"{destination.scheme}://{destination.host}"
    return "invalid"
