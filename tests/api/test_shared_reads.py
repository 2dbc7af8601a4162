"""A GET's authentication and its read share one database session on PostgreSQL: one checkout
of a read connection per request, handed back when the request ends, every read still audited."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event

from tests.api.finance_support import ACCOUNTS_URL, accounts_of, connect, imported, sign_up


async def test_a_get_checks_out_one_read_connection_and_returns_it(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    headers = await sign_up(client, "shared@example.com")
    connection = await connect(client, headers, "ofx-file")
    await imported(client, headers, connection, "checking_ofx1_sgml.ofx")
    account = (await accounts_of(client, headers))[0]["id"]
    database = app.state.container.database
    pool = database.read_engine.sync_engine.pool
    checkouts: list[Any] = []

    def checked_out(*_args: Any) -> None:
        checkouts.append(True)

    event.listen(pool, "checkout", checked_out)
    try:
        response = await client.get(f"{ACCOUNTS_URL}/{account}", headers=headers)
        missing = await client.get(f"{ACCOUNTS_URL}/{account[:-4]}0000", headers=headers)
    finally:
        event.remove(pool, "checkout", checked_out)

    assert response.status_code == 200
    assert missing.status_code == 404  # the refusal's own short write, then the end of the read
    if not database.is_sqlite:
        assert len(checkouts) == 2  # one per request: authentication and read together
        assert pool.checkedout() == 0
