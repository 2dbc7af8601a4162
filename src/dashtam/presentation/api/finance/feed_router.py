"""``GET /api/v1/transactions/sync``: the transactions sync feed (docs/feed.md).

The cursor is opaque to clients and tamper-evident: its position is signed with a keyed
digest bound to the user it was issued to, so an edited cursor, or one issued to someone
else, is refused (422 ``invalid_cursor``) without saying anything about whose it was.
"""

from __future__ import annotations

import hmac
from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from dashtam.application.finance.feed import (
    DEFAULT_FEED_PAGE,
    MAX_FEED_PAGE,
    ReadTransactionFeed,
    TransactionFeedQueries,
)
from dashtam.core.errors import ValidationError
from dashtam.domain.protocols.identifiers import IdentifierDigest
from dashtam.domain.transactions.feed import FeedPage, FeedPosition, WalkKey
from dashtam.presentation.api.cursors import decode_cursor_bytes, encode_cursor_bytes
from dashtam.presentation.api.dependencies import (
    ContainerDep,
    ReadContextDep,
    ReadPrincipalDep,
)
from dashtam.presentation.api.finance.schemas import TransactionResponse
from dashtam.presentation.api.openapi import AUTHENTICATED, problems
from dashtam.presentation.api.problems import error_response
from dashtam.presentation.api.responses import respond

router = APIRouter(prefix="/api/v1/transactions", tags=["transactions"])

_CURSOR_VERSION = "f1"
_MAC_CHARS = 32  # 128 bits of HMAC-SHA256


class RemovedTransaction(BaseModel):
    id: UUID


class TransactionFeedPage(BaseModel):
    added: list[TransactionResponse] = Field(
        description="New since the cursor (apply as upserts: a page may repeat one)"
    )
    modified: list[TransactionResponse] = Field(
        description="Changed since the cursor, in their current state (apply as upserts)"
    )
    removed: list[RemovedTransaction] = Field(
        description="Gone since the cursor; an id the client never had is to be ignored"
    )
    next_cursor: str = Field(description="Where the next request starts; keep it")
    has_more: bool = Field(description="More changes are ready now: ask again at once")

    @classmethod
    def of(cls, page: FeedPage, cursor: str) -> TransactionFeedPage:
        return cls(
            added=[TransactionResponse.of(t) for t in page.added],
            modified=[TransactionResponse.of(t) for t in page.modified],
            removed=[RemovedTransaction(id=i) for i in page.removed],
            next_cursor=cursor,
            has_more=page.has_more,
        )


@router.get(
    "/sync",
    response_model=TransactionFeedPage,
    summary="What changed in my transactions since a cursor (no cursor: all of them)",
    responses=problems(*AUTHENTICATED, 422),
)
async def transaction_feed(
    request: Request,
    principal: ReadPrincipalDep,
    container: ContainerDep,
    context: ReadContextDep,
    limit: Annotated[int, Query(ge=1, le=MAX_FEED_PAGE)] = DEFAULT_FEED_PAGE,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
) -> TransactionFeedPage | JSONResponse:
    user_id = principal.user.id
    signer = container.identifier_digest
    since = decode_feed_cursor(cursor, user_id, signer) if cursor else None
    if cursor and since is None:
        invalid = ValidationError(
            "the cursor is not valid; start over without one",
            code="invalid_cursor",
            details={"field": "cursor"},
        )
        return error_response(invalid, request)
    queries = TransactionFeedQueries(
        uow_factory=container.read_unit_of_work, audit_log=container.read_audit_log
    )
    query = ReadTransactionFeed(user_id=user_id, since=since, limit=limit, context=context)
    return respond(
        await queries.page(query),
        request,
        lambda page: TransactionFeedPage.of(page, encode_feed_cursor(page.next, user_id, signer)),
    )


def encode_feed_cursor(position: FeedPosition, user_id: UUID, signer: IdentifierDigest) -> str:
    fields = [_CURSOR_VERSION, str(position.seq)]
    if position.walk is not None:
        walk = position.walk
        fields += [walk.account_id.hex, walk.posted_on.isoformat(), walk.id.hex]
    payload = "|".join(fields)
    return encode_cursor_bytes(f"{payload}|{_mac(payload, user_id, signer)}".encode())


def decode_feed_cursor(text: str, user_id: UUID, signer: IdentifierDigest) -> FeedPosition | None:
    """The position, or None when the cursor is malformed, edited or not this user's."""
    raw = decode_cursor_bytes(text)
    if raw is None:
        return None
    try:
        payload, _, mac = raw.decode("ascii").rpartition("|")
    except UnicodeDecodeError:
        return None
    if not payload or not hmac.compare_digest(mac, _mac(payload, user_id, signer)):
        return None
    return _position(payload.split("|"))


def _position(fields: list[str]) -> FeedPosition | None:
    # Signed by us, so well formed; parsed defensively all the same.
    try:
        match fields:
            case [version, seq] if version == _CURSOR_VERSION:
                return FeedPosition(seq=int(seq))
            case [version, seq, account, posted, ident] if version == _CURSOR_VERSION:
                walk = WalkKey(UUID(account), date.fromisoformat(posted), UUID(ident))
                return FeedPosition(seq=int(seq), walk=walk)
    except ValueError:
        return None
    return None


def _mac(payload: str, user_id: UUID, signer: IdentifierDigest) -> str:
    # Domain-separated from the digest's other uses; the user id binds the cursor to its owner.
    return signer.digest(f"transaction-feed-cursor\x1f{user_id.hex}\x1f{payload}")[:_MAC_CHARS]
