"""The raw limit of the HTTP reads: FastAPI + asyncpg, no ORM, no use case, no audit.

    BARE_DATABASE_URL=postgresql://... DASHTAM_SECRET_KEY=... \
        uvicorn bench.bare_app:create_app --factory --workers N

It answers ``GET /api/v1/transactions?limit=N`` and ``GET /api/v1/accounts/{id}`` with the same
bytes as Dashtam, for the same bearer token: it verifies the JWT (HS256, same secret), checks
the session and the user in one query (so revocation holds, as in Dashtam), then runs the read.
Three round trips per request: acquire (reset), the session check, the read.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
import jwt
from fastapi import FastAPI, Request, Response

_SESSION = (
    "SELECT 1 FROM auth_sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1"
    " AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > $3 AND u.is_active"
)
# The newest rows of each account (its index walked backwards), then the page: Dashtam's plan.
_PAGE = (
    "SELECT t.* FROM accounts a CROSS JOIN LATERAL ("
    "SELECT t.id, t.account_id, t.amount, t.currency, t.posted_on, t.description, t.payee,"
    " t.memo, t.status, t.provider_transaction_id, t.check_number, t.reference, t.transfer_id"
    " FROM transactions t WHERE t.account_id = a.id"
    " ORDER BY t.posted_on DESC, t.id DESC LIMIT $2) t"
    " WHERE a.user_id = $1 ORDER BY t.posted_on DESC, t.id DESC LIMIT $2"
)
_ACCOUNT = (
    "SELECT id, connection_id, name, account_type, currency, provider_account_id, balance,"
    " balance_as_of, available_balance, available_balance_as_of FROM accounts"
    " WHERE id = $1 AND user_id = $2"
)


def _amount(value: Decimal) -> str:
    normalized = value.normalize()
    exponent = normalized.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        normalized = normalized.quantize(Decimal("0.01"))
    return format(normalized, "f")


def _when(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = value.astimezone(UTC).replace(tzinfo=None).isoformat()
    return text + "Z"


def _json(body: object) -> Response:
    # What FastAPI's JSONResponse sends: compact, UTF-8 kept as is.
    text = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Response(text.encode(), media_type="application/json")


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)


def create_app() -> FastAPI:
    secret = os.environ["DASHTAM_SECRET_KEY"].encode()
    pool_size = int(os.environ.get("DB_POOL_SIZE", "20"))
    state: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state["pool"] = await asyncpg.create_pool(
            os.environ["BARE_DATABASE_URL"], min_size=pool_size, max_size=pool_size
        )
        yield
        await state["pool"].close()

    app = FastAPI(lifespan=lifespan)

    async def caller(connection: asyncpg.Connection, request: Request) -> UUID | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        try:
            claims = jwt.decode(token.strip(), secret, algorithms=["HS256"])
            user_id, session_id = UUID(claims["sub"]), UUID(claims["sid"])
        except (jwt.PyJWTError, KeyError, ValueError):
            return None
        alive = await connection.fetchval(_SESSION, session_id, user_id, datetime.now(UTC))
        return user_id if alive else None

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/transactions")
    async def transactions(request: Request, limit: int = 50) -> Response:
        async with state["pool"].acquire() as connection:
            user_id = await caller(connection, request)
            if user_id is None:
                return Response(status_code=401)
            rows = await connection.fetch(_PAGE, user_id, limit + 1)
        items, more = rows[:limit], len(rows) > limit
        cursor = None
        if more:
            raw = f"{items[-1]['posted_on'].isoformat()}|{items[-1]['id']}".encode()
            cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return _json({"items": [_transaction(row) for row in items], "next_cursor": cursor})

    @app.get("/api/v1/accounts/{account_id}")
    async def account(account_id: UUID, request: Request) -> Response:
        async with state["pool"].acquire() as connection:
            user_id = await caller(connection, request)
            if user_id is None:
                return Response(status_code=401)
            row = await connection.fetchrow(_ACCOUNT, account_id, user_id)
        if row is None:
            return Response(status_code=404)
        return _json(_account(row))

    return app


def _transaction(row: asyncpg.Record) -> dict[str, object]:
    refused = row["transfer_id"] == row["id"]  # "not a transfer" is stored as its own id
    return {
        "id": str(row["id"]),
        "account_id": str(row["account_id"]),
        "amount": _amount(row["amount"]),
        "currency": row["currency"],
        "posted_on": row["posted_on"].isoformat(),
        "description": row["description"],
        "payee": row["payee"],
        "memo": row["memo"],
        "status": row["status"],
        "provider_transaction_id": row["provider_transaction_id"],
        "check_number": row["check_number"],
        "reference": row["reference"],
        "transfer_id": None if refused else _optional(row["transfer_id"]),
    }


def _account(row: asyncpg.Record) -> dict[str, object]:
    number: str = row["provider_account_id"]
    balance, available = row["balance"], row["available_balance"]
    return {
        "id": str(row["id"]),
        "connection_id": str(row["connection_id"]),
        "name": row["name"],
        "type": row["account_type"],
        "currency": row["currency"],
        "number": ("\u2022" * 4 + number[-4:]) if len(number) > 4 else number,
        "balance": None if balance is None else _amount(balance),
        "balance_as_of": _when(row["balance_as_of"]),
        "available_balance": None if available is None else _amount(available),
        "available_balance_as_of": _when(row["available_balance_as_of"]),
    }
