"""Strict reading of Account Sets: what the protocol allows, and what it refuses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from dashtam.core.result import Failure, Success
from dashtam.domain.providers.live import SourceSnapshot
from dashtam.infrastructure.providers.simplefin.payload import parse_account_set


def _account(**overrides: Any) -> dict[str, Any]:
    account: dict[str, Any] = {
        "org": {"domain": "mybank.com", "sfin-url": "https://sfin.mybank.com"},
        "id": "2930002",
        "name": "Savings",
        "currency": "USD",
        "balance": "100.23",
        "balance-date": 978366153,
        "transactions": [
            {"id": "1", "posted": 793090572, "amount": "-33293.43", "description": "Bait"}
        ],
    }
    account.update(overrides)
    return account


def _parse(payload: object) -> SourceSnapshot:
    result = parse_account_set(json.dumps(payload).encode())
    assert isinstance(result, Success), result
    return result.value


def _refused(payload: bytes | object) -> str:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    result = parse_account_set(body)
    assert isinstance(result, Failure), result
    assert result.error.code == "bridge_bad_response"
    return str(result.error.details.get("field", ""))


def test_the_protocols_version_1_example_is_read() -> None:
    snapshot = _parse({"errors": ["You must reauthenticate."], "accounts": [_account()]})
    [account] = snapshot.accounts
    assert account.institution.domain == "mybank.com"
    assert account.balance_date == datetime(2001, 1, 1, 16, 22, 33, tzinfo=UTC)
    assert account.transactions[0].amount == Decimal("-33293.43")
    assert account.transactions[0].posted == datetime(
        1995, 2, 18, 6, 56, 12, tzinfo=UTC
    )  # date -u -d @793090572
    assert [m.message for m in snapshot.messages] == ["You must reauthenticate."]


def test_a_bare_json_number_is_read_exactly_never_as_float() -> None:
    body = b'{"errors": [], "accounts": [{"org": {"domain": "b.example"}, "id": "1", "name": "A",'
    body += b' "currency": "USD", "balance": 0.1, "balance-date": 1}]}'
    result = parse_account_set(body)
    assert isinstance(result, Success)
    assert result.value.accounts[0].balance == Decimal("0.1")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"balance": True}, "accounts[0].balance"),
        ({"balance": "NaN"}, "accounts[0].balance"),
        ({"balance": "12,50"}, "accounts[0].balance"),
        ({"balance-date": "978366153"}, "accounts[0].balance-date"),
        ({"balance-date": 97836615.5}, "accounts[0].balance-date"),
        ({"id": 2930002}, "accounts[0].id"),
        ({"transactions": {}}, "accounts[0].transactions"),
        ({"org": None, "conn_id": None}, "accounts[0].org"),
    ],
)
def test_values_outside_the_protocol_are_refused_by_field(
    overrides: dict[str, Any], field: str
) -> None:
    assert _refused({"errors": [], "accounts": [_account(**overrides)]}) == field


@pytest.mark.parametrize(
    ("transaction", "field"),
    [
        ({"amount": 5}, "amount"),  # an int is exact; refusing it would be needless
        ({"pending": "yes"}, "pending"),
        ({"posted": None}, "posted"),
    ],
)
def test_transaction_fields_are_checked(transaction: dict[str, Any], field: str) -> None:
    tx = {"id": "1", "posted": 1, "amount": "1", "description": "x", **transaction}
    payload = {"errors": [], "accounts": [_account(transactions=[tx])]}
    if field == "amount":
        assert _parse(payload).accounts[0].transactions[0].amount == Decimal(5)
    else:
        assert _refused(payload) == f"accounts[0].transactions[0].{field}"


@pytest.mark.parametrize(
    "body", [b"", b"[]", b'{"errors": []}', b'{"accounts": [], "x": NaN}', b"\xff"]
)
def test_bodies_that_are_no_account_set_are_refused(body: bytes) -> None:
    _refused(body)


def test_version_2_messages_come_first_and_plain_duplicates_are_dropped() -> None:
    snapshot = _parse(
        {
            "errlist": [{"code": "con.auth", "message": "Authentication required"}],
            "errors": ["Authentication required", "Bank\u202e slow\n\n"],
            "accounts": [],
        }
    )
    assert [(m.code, m.message) for m in snapshot.messages] == [
        ("con.auth", "Authentication required"),
        (None, "Bank slow"),
    ]


def test_long_messages_are_cut() -> None:
    snapshot = _parse({"errors": ["x" * 2000], "accounts": []})
    assert len(snapshot.messages[0].message) == 500
