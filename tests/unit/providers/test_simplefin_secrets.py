"""No path of the SimpleFIN client lets the setup token or the access URL's credentials out.

Each scenario runs with structlog captured and every standard-library logger (httpx and
httpcore included) at DEBUG; then the token, the claim URL's path and the credentials are
looked for in the results' repr, the errors' messages and details, and every log record.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
import structlog

from dashtam.core.result import Failure, Success
from dashtam.domain.providers.live import AccessGrant, AccessUrl
from dashtam.infrastructure.providers.simplefin import SimplefinClient
from tests.simplefin_bridge import SimplefinBridge
from tests.unit.providers.conftest import ANCHOR

Scenario = Callable[[SimplefinBridge, SimplefinClient, str], Awaitable[list[object]]]


async def _claim_ok(bridge: SimplefinBridge, client: SimplefinClient, token: str) -> list[object]:
    return [await client.claim(token)]


async def _claim_twice(
    bridge: SimplefinBridge, client: SimplefinClient, token: str
) -> list[object]:
    return [await client.claim(token), await client.claim(token)]


async def _claim_slow(bridge: SimplefinBridge, client: SimplefinClient, token: str) -> list[object]:
    bridge.behaviour.delay_seconds = 1.0
    return [await SimplefinClient(allow_loopback_http=True, timeout_seconds=0.2).claim(token)]


async def _claim_insecure(
    bridge: SimplefinBridge, client: SimplefinClient, token: str
) -> list[object]:
    return [await SimplefinClient().claim(token)]


def _fetching(**behaviour: object) -> Scenario:
    async def scenario(
        bridge: SimplefinBridge, client: SimplefinClient, token: str
    ) -> list[object]:
        claimed = await client.claim(token)
        assert isinstance(claimed, Success)
        for name, value in behaviour.items():
            setattr(bridge.behaviour, name, value)
        fetched = await client.fetch(claimed.value, start=ANCHOR - timedelta(days=5), end=ANCHOR)
        too_long = await client.fetch(claimed.value, start=ANCHOR - timedelta(days=91), end=ANCHOR)
        return [claimed, claimed.value, claimed.value.access_url, fetched, too_long]

    return scenario


async def _fetch_unreachable(
    bridge: SimplefinBridge, client: SimplefinClient, token: str
) -> list[object]:
    claimed = await client.claim(token)
    assert isinstance(claimed, Success)
    bridge.stop()
    return [
        claimed,
        await client.fetch(claimed.value, start=ANCHOR - timedelta(days=1), end=ANCHOR),
    ]


SCENARIOS: dict[str, Scenario] = {
    "claim": _claim_ok,
    "claim_reused": _claim_twice,
    "claim_timeout": _claim_slow,
    "claim_insecure": _claim_insecure,
    "fetch_ok": _fetching(),
    "fetch_errors": _fetching(errors=["Reauthenticate"]),
    "fetch_402": _fetching(status=402),
    "fetch_403": _fetching(status=403),
    "fetch_500": _fetching(status=500),
    "fetch_malformed": _fetching(malformed=True),
    "fetch_timeout": _fetching(delay_seconds=6.0),
    "fetch_unreachable": _fetch_unreachable,
}


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_no_secret_leaves_any_path(
    simplefin_bridge: SimplefinBridge, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    token = simplefin_bridge.issue_setup_token()
    claim_path = base64.b64decode(token).decode().split("/claim/")[1]
    client = SimplefinClient(allow_loopback_http=True, timeout_seconds=0.5)

    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as captured:
        returned = await SCENARIOS[name](simplefin_bridge, client, token)

    secrets = {token, claim_path, *_credentials(returned)}
    seen = [repr(r) for r in returned] + [str(r) for r in returned]
    seen += [_error_text(r) for r in returned]
    seen += [repr(entry) for entry in captured]
    seen += [record.getMessage() for record in caplog.records]
    seen += [repr(record.args) for record in caplog.records]
    assert captured or caplog.records  # the paths do log; the test reads what they wrote
    for secret in secrets:
        assert not [text for text in seen if secret in text], secret


def _credentials(returned: list[object]) -> set[str]:
    found: set[str] = set()
    for item in returned:
        url = (
            item.value.access_url
            if isinstance(item, Success) and isinstance(item.value, AccessGrant)
            else item
            if isinstance(item, AccessUrl)
            else None
        )
        if url is not None:
            userinfo = url.reveal().split("//", 1)[1].split("@", 1)[0]
            found |= {userinfo, *userinfo.split(":")}
    return found


def _error_text(item: object) -> str:
    if isinstance(item, Failure):
        return f"{item.error.message} {dict(item.error.details)!r} {item.error!s}"
    return ""


async def test_an_access_url_hides_its_credentials_everywhere_but_reveal() -> None:
    url = AccessUrl("https://user123:pass456@bridge.example/simplefin")
    grant = AccessGrant(access_url=url)

    for text in (repr(url), str(url), f"{url}", repr(grant), str(grant)):
        assert "user123" not in text
        assert "pass456" not in text
    assert str(url) == "https://***@bridge.example/..."
    assert url.reveal() == "https://user123:pass456@bridge.example/simplefin"
    with pytest.raises(TypeError):
        __import__("pickle").dumps(grant)
