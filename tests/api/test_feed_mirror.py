"""The sync feed mirrors exactly: random operations through the real API, a client pulling
pages of random small sizes in between, and the client's mirror equal to what GET
/transactions lists, at random points and at the end (SQLite and PostgreSQL).

Operations: sample OFX and CSV files, generated CSV files whose rows come back corrected
(amount, status, date), pending rows that post under new ids (card_pending -> card_posted),
transfer links and unlinks by the owner, account deletion, disconnection with purge.
"""

from __future__ import annotations

import itertools
from typing import Any

import httpx
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from tests.api.feed_support import FeedClient, listed
from tests.api.finance_support import (
    ACCOUNTS_URL,
    CONNECTIONS_URL,
    TRANSACTIONS_URL,
    accounts_of,
    connect,
    sign_up,
    upload,
)
from tests.api.test_finance_transfers import CARD_MAPPING

MIRROR = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_emails = itertools.count()
_OFX = ["own_transfer.ofx", "savings.qfx", "checking_ofx1_sgml.ofx", "creditcard_ofx2.ofx"]
Row = tuple[int, int, int, bool]  # id number, amount in cents, day, pending

operations = st.one_of(
    st.tuples(st.just("ofx"), st.sampled_from(_OFX)),
    st.tuples(st.just("cards"), st.sampled_from(["card_pending.csv", "card_posted.csv"])),
    st.tuples(
        st.just("generated"),
        st.lists(
            st.tuples(
                st.integers(0, 5), st.integers(-9999, 9999), st.integers(1, 4), st.booleans()
            ),
            min_size=1,
            max_size=4,
            unique_by=lambda row: row[0],
        ),
    ),
    st.tuples(st.just("link"), st.integers(0, 99), st.integers(0, 99)),
    st.tuples(st.just("unlink"), st.integers(0, 99)),
    st.tuples(st.just("delete_account"), st.integers(0, 9)),
    st.tuples(st.just("purge"), st.sampled_from(["ofx", "cards", "generated"])),
    st.tuples(st.just("pull"), st.integers(1, 4), st.integers(1, 3)),
    st.tuples(st.just("check"), st.integers(1, 5)),
)


def generated_csv(rows: list[Row]) -> bytes:
    lines = ["Transaction Id,Date,Description,Amount,Status"]
    for number, cents, day, pending in rows:
        status = "Pending" if pending else "Posted"
        lines.append(f"G-{number},2026-11-{day:02d},SHOP {number},{cents / 100:.2f},{status}")
    return ("\n".join(lines) + "\n").encode()


class World:
    """One user's connections (a purged one is replaced by a new one of its kind)."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers
        self.connections: dict[str, str] = {}

    async def connection(self, kind: str) -> str:
        if kind not in self.connections:
            provider = "ofx-file" if kind == "ofx" else "csv-file"
            self.connections[kind] = await connect(self.client, self.headers, provider)
        return self.connections[kind]

    async def run(self, operation: tuple[Any, ...]) -> httpx.Response | None:
        kind, *args = operation
        if kind == "ofx":
            return await upload(self.client, self.headers, await self.connection("ofx"), args[0])
        if kind in ("cards", "generated"):
            name, data = (args[0], None) if kind == "cards" else ("gen.csv", generated_csv(args[0]))
            connection = await self.connection(kind)
            return await upload(
                self.client, self.headers, connection, name, data=data, mapping=CARD_MAPPING
            )
        if kind == "purge":
            if args[0] not in self.connections:
                return None
            connection = self.connections.pop(args[0])
            url = f"{CONNECTIONS_URL}/{connection}"
            return await self.client.delete(url, params={"purge": "true"}, headers=self.headers)
        return await self._on_rows(kind, args)

    async def _on_rows(self, kind: str, args: list[int]) -> httpx.Response | None:
        if kind == "delete_account":
            accounts = await accounts_of(self.client, self.headers)
            if not accounts:
                return None
            account = accounts[args[0] % len(accounts)]["id"]
            return await self.client.delete(f"{ACCOUNTS_URL}/{account}", headers=self.headers)
        rows = sorted((await listed(self.client, self.headers)).values(), key=lambda r: r["id"])
        if not rows:
            return None
        one = rows[args[0] % len(rows)]
        url = f"{TRANSACTIONS_URL}/{one['id']}/transfer"
        if kind == "unlink":
            return await self.client.delete(url, headers=self.headers)
        # A pair the owner may link: another account, money the other way.
        others = [r for r in rows if r["account_id"] != one["account_id"]]
        fitting = [
            r for r in others if r["amount"].startswith("-") != one["amount"].startswith("-")
        ]
        if not fitting:
            return None
        other = {"other_id": fitting[args[1] % len(fitting)]["id"]}
        return await self.client.put(url, json=other, headers=self.headers)


async def assert_mirrors(feed: FeedClient, world: World, limit: int) -> None:
    assert await feed.pull(limit)
    assert feed.rows == await listed(world.client, world.headers)


@MIRROR
@given(steps=st.lists(operations, min_size=3, max_size=12))
async def test_a_client_applying_pages_in_order_mirrors_the_database(
    client: httpx.AsyncClient, steps: list[tuple[Any, ...]]
) -> None:
    headers = await sign_up(client, f"mirror{next(_emails)}@example.com")
    world = World(client, headers)
    feed = FeedClient(client, headers)
    # Rows to work on from the start: two accounts with a transfer, and pending card rows.
    for step in (("ofx", "own_transfer.ofx"), ("cards", "card_pending.csv"), *steps):
        note(repr(step))
        if step[0] == "pull":
            await feed.pull(step[1], pages=step[2])
            continue
        if step[0] == "check":
            await assert_mirrors(feed, world, step[1])
            continue
        response = await world.run(step)
        event(f"{step[0]}: {response.status_code if response is not None else 'skipped'}")
        # Refusals are fine (a link of a row to itself, a file nothing new in); failures are not.
        assert response is None or response.status_code < 500, response.text
    await assert_mirrors(feed, world, 3)
    latecomer = FeedClient(client, headers)  # starting now, from scratch
    await assert_mirrors(latecomer, world, 2)
