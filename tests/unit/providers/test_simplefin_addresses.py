"""The SimpleFIN client reaches public servers only (unless told otherwise), at the address
it checked."""

from __future__ import annotations

import base64

import httpx
import pytest

from dashtam.core.result import Failure, Success
from dashtam.domain.addresses import literal_address
from dashtam.infrastructure.providers.simplefin import SimplefinClient
from dashtam.infrastructure.providers.simplefin.addresses import checked_address, pinned


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.7/simplefin/claim/x",
        "https://192.168.1.2/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::ffff:10.0.0.1]/x",
        "https://[fd00::1]/x",
        "https://127.0.0.1/x",
        "https://localhost/x",
        "https://100.64.0.1/x",
    ],
)
async def test_non_public_servers_are_refused(url: str) -> None:
    checked = await checked_address(httpx.URL(url), allow_private=False, allow_loopback=False)
    assert isinstance(checked, Failure)
    assert checked.error.code == "bridge_address_not_allowed"


async def test_settings_open_loopback_or_private_servers() -> None:
    loopback = httpx.URL("http://127.0.0.1:8080/x")
    private = httpx.URL("https://10.1.2.3/x")
    assert isinstance(
        await checked_address(loopback, allow_private=False, allow_loopback=True), Success
    )
    assert isinstance(
        await checked_address(private, allow_private=False, allow_loopback=True), Failure
    )
    assert isinstance(
        await checked_address(private, allow_private=True, allow_loopback=False), Success
    )


async def test_a_public_address_passes() -> None:
    public = httpx.URL("https://93.184.216.34/simplefin")
    assert await checked_address(public, allow_private=False, allow_loopback=False) == Success(
        literal_address("93.184.216.34")
    )


def test_the_pinned_request_names_the_server_in_host_and_tls() -> None:
    request = httpx.Request("GET", "https://bridge.example:8443/simplefin/accounts?x=1")
    address = literal_address("93.184.216.34")
    assert address is not None
    target = pinned(request, address)
    assert target.url.host == "93.184.216.34"
    assert target.url.port == 8443
    assert target.url.query == b"x=1"
    assert target.headers.get_list("host") == ["bridge.example:8443"]
    assert target.extensions["sni_hostname"] == "bridge.example"


async def test_a_claim_to_a_private_server_is_refused_before_any_request() -> None:
    token = base64.b64encode(b"https://10.0.0.7/simplefin/claim/abc").decode()
    claimed = await SimplefinClient(timeout_seconds=1).claim(token)
    assert isinstance(claimed, Failure)
    assert claimed.error.code == "bridge_address_not_allowed"
