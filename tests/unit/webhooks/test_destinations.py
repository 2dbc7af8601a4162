"""The SSRF rules: URL forms, refused addresses (IPv4, IPv6, mapped), and the resolving guard."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import pytest

from dashtam.core.result import Failure, Success
from dashtam.domain.addresses import refused_address
from dashtam.domain.webhooks.destinations import Destination, parse_destination
from dashtam.infrastructure.webhooks.guard import ResolvingGuard


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/hook", "unsupported_url_scheme"),
        ("file:///etc/passwd", "unsupported_url_scheme"),
        ("javascript:alert(1)", "unsupported_url_scheme"),
        ("https://user:pw@example.com/hook", "url_has_credentials"),
        ("https://token@example.com/hook", "url_has_credentials"),
        ("https:///no-host", "invalid_url"),
        ("https://example.com:99999/", "invalid_url"),
        ("https://exa mple.com/", "invalid_url"),
        ("https://example.com/\x00", "invalid_url"),
        ("https://\ud800.example.com/hook", "invalid_url"),  # a lone surrogate: valid JSON
        ("https://" + "a" * 64 + ".example.com/", "invalid_url"),  # a label over 63 octets
        ("https://a..example.com/", "invalid_url"),  # an empty label
        ("https://example.com/" + "a" * 2048, "url_too_long"),
    ],
)
def test_urls_of_the_wrong_form_are_refused(url: str, code: str) -> None:
    result = parse_destination(url)
    assert isinstance(result, Failure)
    assert result.error.code == code
    assert result.error.details == {"field": "url"}


def test_a_url_gives_its_host_and_port() -> None:
    assert parse_destination("https://Hooks.Example.com./x?y=1") == Success(
        Destination(
            url="https://Hooks.Example.com./x?y=1",
            scheme="https",
            host="hooks.example.com",
            port=443,
        )
    )
    parsed = parse_destination("http://[2001:db8::1]:8080/")
    assert isinstance(parsed, Success)
    assert (parsed.value.host, parsed.value.port) == ("2001:db8::1", 8080)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address under test
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("240.0.0.1", "private"),
        ("255.255.255.255", "private"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
        ("64:ff9b::a00:1", "NAT64"),
        ("2001:db8::1", "private"),  # documentation range
    ],
)
def test_special_addresses_are_refused(address: str, reason: str) -> None:
    assert refused_address(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert refused_address(ipaddress.ip_address(address)) is None


def _resolver(answers: dict[str, Sequence[str]]):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> Sequence[str]:
        if host not in answers:
            raise OSError("no such host")
        return answers[host]

    return resolve


def _destination(url: str) -> Destination:
    parsed = parse_destination(url)
    assert isinstance(parsed, Success)
    return parsed.value


async def test_the_guard_returns_the_checked_address() -> None:
    guard = ResolvingGuard(allow_private=False, resolver=_resolver({"a.test": ["1.1.1.1"]}))
    assert await guard.resolve(_destination("https://a.test/")) == Success(
        ipaddress.ip_address("1.1.1.1")
    )


@pytest.mark.parametrize(
    ("url", "answers"),
    [
        ("https://localhost/", {}),
        ("https://api.localhost/", {}),
        ("https://127.0.0.1/", {}),
        ("https://[::ffff:7f00:1]/", {}),
        ("https://2130706433/", {"2130706433": ["127.0.0.1"]}),  # decimal form of 127.0.0.1
        ("https://metadata.test/", {"metadata.test": ["169.254.169.254"]}),
        # One private address among public ones is enough: the order may change later.
        ("https://mixed.test/", {"mixed.test": ["1.1.1.1", "10.0.0.5"]}),
    ],
)
async def test_the_guard_refuses_private_destinations(
    url: str, answers: dict[str, Sequence[str]]
) -> None:
    guard = ResolvingGuard(allow_private=False, resolver=_resolver(answers))
    refused = await guard.resolve(_destination(url))
    assert isinstance(refused, Failure)
    assert refused.error.code == "webhook_url_not_allowed"


async def test_the_guard_allows_private_destinations_when_told() -> None:
    guard = ResolvingGuard(allow_private=True, resolver=_resolver({"lan.test": ["10.0.0.5"]}))
    assert await guard.resolve(_destination("http://lan.test/")) == Success(
        ipaddress.ip_address("10.0.0.5")
    )
    assert isinstance(await guard.resolve(_destination("http://localhost:1/")), Failure)


async def test_a_host_that_does_not_resolve_is_refused() -> None:
    guard = ResolvingGuard(allow_private=False, resolver=_resolver({}))
    refused = await guard.resolve(_destination("https://nowhere.test/"))
    assert isinstance(refused, Failure)
    assert refused.error.code == "webhook_host_unresolvable"
