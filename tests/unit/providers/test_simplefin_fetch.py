"""Fetching Account Sets from a SimpleFIN server on loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.providers.live import AccessGrant, AccessUrl, SourceSnapshot
from dashtam.infrastructure.providers.simplefin import SimplefinClient
from tests.simplefin_bridge import SimplefinBridge
from tests.unit.providers.conftest import ANCHOR


async def _grant(bridge: SimplefinBridge, client: SimplefinClient) -> AccessGrant:
    result = await client.claim(bridge.issue_setup_token())
    assert isinstance(result, Success), result
    return result.value


async def _fetch(
    bridge: SimplefinBridge, *, days: int = 30, pending: bool = True
) -> Result[SourceSnapshot, Error]:
    client = SimplefinClient(allow_loopback_http=True)
    grant = await _grant(bridge, client)
    return await client.fetch(
        grant, start=ANCHOR - timedelta(days=days), end=ANCHOR, pending=pending
    )


def _snapshot(result: object) -> SourceSnapshot:
    assert isinstance(result, Success), result
    assert isinstance(result.value, SourceSnapshot)
    return result.value


def _ids(snapshot: SourceSnapshot, account_id: str = "2930002") -> list[str]:
    account = next(a for a in snapshot.accounts if a.id == account_id)
    return [t.id for t in account.transactions]


async def test_the_window_selects_transactions(simplefin_bridge: SimplefinBridge) -> None:
    assert _ids(_snapshot(await _fetch(simplefin_bridge, days=30))) == ["T-MID", "T-NEW", "T-PEND"]
    assert _ids(_snapshot(await _fetch(simplefin_bridge, days=60)))[0] == "T-OLD"
    query = simplefin_bridge.requests[-1].query
    assert query["end-date"] == str(int(ANCHOR.timestamp()))
    assert query["start-date"] == str(int((ANCHOR - timedelta(days=60)).timestamp()))


async def test_pending_transactions_come_only_when_asked(
    simplefin_bridge: SimplefinBridge,
) -> None:
    without = _snapshot(await _fetch(simplefin_bridge, pending=False))
    with_pending = _snapshot(await _fetch(simplefin_bridge, pending=True))

    assert "T-PEND" not in _ids(without)
    pend = next(t for t in with_pending.accounts[0].transactions if t.id == "T-PEND")
    assert pend.pending is True
    assert pend.posted is None
    assert pend.transacted_at == ANCHOR - timedelta(hours=2)


async def test_values_are_decimals_and_aware_datetimes(simplefin_bridge: SimplefinBridge) -> None:
    snapshot = _snapshot(await _fetch(simplefin_bridge, days=60))
    savings, brokerage, miles = snapshot.accounts

    assert savings.balance == Decimal("100.23")
    assert isinstance(savings.balance, Decimal)
    assert savings.available_balance == Decimal("75.23")
    assert savings.balance_date == ANCHOR - timedelta(hours=1)
    assert savings.balance_date.tzinfo is UTC
    old = savings.transactions[0]
    assert old.amount == Decimal("-33293.43")
    assert old.posted == ANCHOR - timedelta(days=40)
    # The client asks for version 2: institutions come from ``connections`` by ``conn_id``.
    assert (savings.institution.name, savings.institution.connection_id) == ("My Bank", "CON-1")
    mid = savings.transactions[1]
    assert (mid.payee, mid.memo) == ("ACME Corp", None)
    [holding] = brokerage.holdings
    assert (holding.symbol, holding.shares, holding.market_value) == (
        "VTI",
        Decimal("40.000"),
        Decimal("10234.10"),
    )
    assert brokerage.available_balance is None
    assert miles.has_custom_currency
    assert not savings.has_custom_currency


async def test_protocol_errors_become_messages(simplefin_bridge: SimplefinBridge) -> None:
    simplefin_bridge.behaviour.errors = ["You must reauthenticate.", "My Bank is slow\x1b[31m"]
    simplefin_bridge.behaviour.errlist = [
        {"code": "con.auth", "msg": "You must reauthenticate.", "conn_id": "CON-1"}
    ]
    snapshot = _snapshot(await _fetch(simplefin_bridge))

    assert snapshot.needs_attention
    assert [(m.code, m.message, m.connection_id) for m in snapshot.messages] == [
        ("con.auth", "You must reauthenticate.", "CON-1"),
        (None, "My Bank is slow[31m", None),
    ]
    assert len(snapshot.accounts) == 3  # the accounts still arrive


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (402, "bridge_payment_required"),
        (403, "bridge_access_revoked"),
        (500, "bridge_unavailable"),
        (503, "bridge_unavailable"),
        (418, "bridge_bad_response"),
    ],
)
async def test_statuses_have_their_own_codes(
    simplefin_bridge: SimplefinBridge, status: int, code: str
) -> None:
    simplefin_bridge.behaviour.status = status
    result = await _fetch(simplefin_bridge)
    assert isinstance(result, Failure)
    assert result.error.code == code


async def test_a_revoked_access_is_refused(simplefin_bridge: SimplefinBridge) -> None:
    client = SimplefinClient(allow_loopback_http=True)
    grant = await _grant(simplefin_bridge, client)
    simplefin_bridge.revoke(grant.access_url.reveal().split("//")[1].split(":")[0])

    result = await client.fetch(grant, start=ANCHOR - timedelta(days=1), end=ANCHOR)

    assert isinstance(result, Failure)
    assert result.error.code == "bridge_access_revoked"


async def test_wrong_credentials_are_refused(simplefin_bridge: SimplefinBridge) -> None:
    forged = AccessGrant(
        access_url=AccessUrl(f"http://nobody:guess@{simplefin_bridge.base_url[7:]}/simplefin")
    )
    client = SimplefinClient(allow_loopback_http=True)
    result = await client.fetch(forged, start=ANCHOR - timedelta(days=1), end=ANCHOR)
    assert isinstance(result, Failure)
    assert result.error.code == "bridge_access_revoked"


async def test_malformed_json_is_a_bad_response(simplefin_bridge: SimplefinBridge) -> None:
    simplefin_bridge.behaviour.malformed = True
    result = await _fetch(simplefin_bridge)
    assert isinstance(result, Failure)
    assert result.error.code == "bridge_bad_response"


async def test_a_slow_server_times_out(simplefin_bridge: SimplefinBridge) -> None:
    client = SimplefinClient(allow_loopback_http=True, timeout_seconds=0.3)
    grant = await _grant(simplefin_bridge, client)
    simplefin_bridge.behaviour.delay_seconds = 2.0

    started = datetime.now(UTC)
    result = await client.fetch(grant, start=ANCHOR - timedelta(days=1), end=ANCHOR)

    assert isinstance(result, Failure)
    assert result.error.code == "bridge_timeout"
    assert datetime.now(UTC) - started < timedelta(seconds=1.5)


async def test_an_oversized_answer_is_refused(simplefin_bridge: SimplefinBridge) -> None:
    client = SimplefinClient(allow_loopback_http=True, max_response_bytes=2048)
    grant = await _grant(simplefin_bridge, client)
    simplefin_bridge.behaviour.body = b'{"errors": [], "accounts": []}' + b" " * 4096

    result = await client.fetch(grant, start=ANCHOR - timedelta(days=1), end=ANCHOR)

    assert isinstance(result, Failure)
    assert result.error.code == "bridge_response_too_large"


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (ANCHOR - timedelta(days=90, seconds=1), ANCHOR),
        (ANCHOR, ANCHOR),
        (ANCHOR, ANCHOR - timedelta(days=1)),
        (ANCHOR.replace(tzinfo=None) - timedelta(days=1), ANCHOR.replace(tzinfo=None)),
    ],
)
async def test_bad_windows_are_refused_without_a_request(
    simplefin_bridge: SimplefinBridge, start: datetime, end: datetime
) -> None:
    client = SimplefinClient(allow_loopback_http=True)
    grant = await _grant(simplefin_bridge, client)
    before = simplefin_bridge.count("/accounts")

    result = await client.fetch(grant, start=start, end=end)

    assert isinstance(result, Failure)
    assert result.error.code == "invalid_fetch_window"
    assert simplefin_bridge.count("/accounts") == before


async def test_a_ninety_day_window_is_allowed(simplefin_bridge: SimplefinBridge) -> None:
    assert isinstance(await _fetch(simplefin_bridge, days=90), Success)


async def test_every_request_is_counted_per_access(simplefin_bridge: SimplefinBridge) -> None:
    client = SimplefinClient(allow_loopback_http=True)
    first = await _grant(simplefin_bridge, client)
    second = await _grant(simplefin_bridge, client)
    for _ in range(3):
        await client.fetch(first, start=ANCHOR - timedelta(days=1), end=ANCHOR)
    await client.fetch(second, start=ANCHOR - timedelta(days=1), end=ANCHOR)

    user_of = {g: g.access_url.reveal().split("//")[1].split(":")[0] for g in (first, second)}
    assert simplefin_bridge.count("/accounts", username=user_of[first]) == 3
    assert simplefin_bridge.count("/accounts", username=user_of[second]) == 1
    assert simplefin_bridge.count("/accounts") == 4
    assert simplefin_bridge.count() == 6  # two claims and four fetches
