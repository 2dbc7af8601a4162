"""Strict reading of an Account Set (the body of ``GET /accounts``), versions 1 and 2.

Amounts are numeric strings read as ``Decimal`` (the JSON is decoded with
``parse_float=Decimal``, so a number sent bare is never a float either); times are UNIX
epoch seconds read as aware UTC datetimes. Anything else is a bad response naming the field.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.providers.live import (
    SourceAccount,
    SourceHolding,
    SourceInstitution,
    SourceMessage,
    SourceSnapshot,
    SourceTransaction,
)
from dashtam.infrastructure.providers.simplefin.errors import BridgeBadResponseError

# The protocol asks apps to sanitize the messages they show; long ones are cut here too.
MAX_MESSAGE_CHARS = 500


class _InvalidFieldError(Exception):
    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.where = where


def parse_account_set(body: bytes) -> Result[SourceSnapshot, Error]:
    try:
        data = json.loads(body, parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return Failure(BridgeBadResponseError("The bridge's answer is not valid JSON."))
    try:
        return Success(_account_set(data))
    except _InvalidFieldError as invalid:
        return Failure(
            BridgeBadResponseError(
                "The bridge's answer does not follow the SimpleFIN protocol.",
                details={"field": invalid.where},
            )
        )


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def _account_set(data: object) -> SourceSnapshot:
    root = _object(data, "$")
    connections = {
        _text(c, "conn_id", f"connections[{i}]"): _object(c, f"connections[{i}]")
        for i, c in enumerate(_list(root, "connections", "$"))
    }
    accounts = tuple(
        _account(item, f"accounts[{i}]", connections)
        for i, item in enumerate(_list(root, "accounts", "$", required=True))
    )
    return SourceSnapshot(accounts=accounts, messages=_messages(root))


def _messages(root: Mapping[str, Any]) -> tuple[SourceMessage, ...]:
    structured = [
        _errlist_entry(e, f"errlist[{i}]") for i, e in enumerate(_list(root, "errlist", "$"))
    ]
    # During the move to errlist a server may send both lists with the same sentences.
    seen = {m.message for m in structured}
    plain = []
    for i, item in enumerate(_list(root, "errors", "$")):
        if not isinstance(item, str):
            raise _InvalidFieldError(f"errors[{i}]")
        if (message := _clean(item)) not in seen:
            seen.add(message)
            plain.append(SourceMessage(message=message))
    return (*structured, *plain)


def _errlist_entry(data: object, where: str) -> SourceMessage:
    entry = _object(data, where)
    # The draft names the field ``message``; the Bridge's guide shows ``msg``.
    text = _opt_text(entry, "msg", where) or _text(entry, "message", where)
    return SourceMessage(
        message=_clean(text),
        code=_opt_text(entry, "code", where),
        connection_id=_opt_text(entry, "conn_id", where),
        account_id=_opt_text(entry, "account_id", where),
    )


def _account(
    data: object, where: str, connections: Mapping[str, Mapping[str, Any]]
) -> SourceAccount:
    item = _object(data, where)
    return SourceAccount(
        id=_text(item, "id", where),
        name=_text(item, "name", where),
        currency=_text(item, "currency", where),
        balance=_amount(item, "balance", where),
        available_balance=_opt_amount(item, "available-balance", where),
        balance_date=_epoch(item, "balance-date", where),
        institution=_institution(item, where, connections),
        transactions=tuple(
            _transaction(t, f"{where}.transactions[{i}]")
            for i, t in enumerate(_list(item, "transactions", where))
        ),
        holdings=tuple(
            _holding(h, f"{where}.holdings[{i}]")
            for i, h in enumerate(_list(item, "holdings", where))
        ),
    )


def _institution(
    item: Mapping[str, Any], where: str, connections: Mapping[str, Mapping[str, Any]]
) -> SourceInstitution:
    conn_id = _opt_text(item, "conn_id", where)
    if "org" in item:  # version 1
        org = _object(item["org"], f"{where}.org")
        return SourceInstitution(
            name=_opt_text(org, "name", f"{where}.org"),
            domain=_opt_text(org, "domain", f"{where}.org"),
            url=_opt_text(org, "url", f"{where}.org"),
            connection_id=conn_id,
        )
    if conn_id is None:
        raise _InvalidFieldError(f"{where}.org")
    conn = connections.get(conn_id, {})
    return SourceInstitution(
        name=_opt_text(conn, "org_name", f"{where}.conn_id"),
        url=_opt_text(conn, "org_url", f"{where}.conn_id"),
        connection_id=conn_id,
    )


def _transaction(data: object, where: str) -> SourceTransaction:
    item = _object(data, where)
    pending = item.get("pending", False)
    if not isinstance(pending, bool):
        raise _InvalidFieldError(f"{where}.pending")
    posted = _epoch(item, "posted", where)
    return SourceTransaction(
        id=_text(item, "id", where),
        amount=_amount(item, "amount", where),
        description=_text(item, "description", where),
        # ``posted: 0`` is how the protocol says "not posted yet".
        posted=None if pending and posted.timestamp() == 0 else posted,
        transacted_at=_opt_epoch(item, "transacted_at", where),
        pending=pending,
        payee=_opt_text(item, "payee", where),
        memo=_opt_text(item, "memo", where),
    )


def _holding(data: object, where: str) -> SourceHolding:
    item = _object(data, where)
    return SourceHolding(
        id=_text(item, "id", where),
        symbol=_opt_text(item, "symbol", where),
        description=_opt_text(item, "description", where),
        currency=_opt_text(item, "currency", where),
        shares=_opt_amount(item, "shares", where),
        market_value=_opt_amount(item, "market_value", where),
        cost_basis=_opt_amount(item, "cost_basis", where),
        purchase_price=_opt_amount(item, "purchase_price", where),
        created=_opt_epoch(item, "created", where),
    )


def _object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _InvalidFieldError(where)
    return value


def _list(item: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> list[Any]:
    value = item.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise _InvalidFieldError(f"{where}.{key}")
    return value


def _opt_text(item: Mapping[str, Any], key: str, where: str) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _InvalidFieldError(f"{where}.{key}")
    return value


def _text(item: Mapping[str, Any], key: str, where: str) -> str:
    value = _opt_text(item, key, where)
    if value is None:
        raise _InvalidFieldError(f"{where}.{key}")
    return value


def _opt_amount(item: Mapping[str, Any], key: str, where: str) -> Decimal | None:
    value = item.get(key)
    if value is None or value == "":
        return None
    # bool is an int subclass: ``true`` is not an amount.
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise _InvalidFieldError(f"{where}.{key}")
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise _InvalidFieldError(f"{where}.{key}") from None
    if not amount.is_finite():
        raise _InvalidFieldError(f"{where}.{key}")
    return amount


def _amount(item: Mapping[str, Any], key: str, where: str) -> Decimal:
    value = _opt_amount(item, key, where)
    if value is None:
        raise _InvalidFieldError(f"{where}.{key}")
    return value


def _opt_epoch(item: Mapping[str, Any], key: str, where: str) -> datetime | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _InvalidFieldError(f"{where}.{key}")
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise _InvalidFieldError(f"{where}.{key}") from None


def _epoch(item: Mapping[str, Any], key: str, where: str) -> datetime:
    value = _opt_epoch(item, key, where)
    if value is None:
        raise _InvalidFieldError(f"{where}.{key}")
    return value


def _clean(message: str) -> str:
    """Drop control and format characters (terminal escapes, bidi overrides); cut long text."""
    kept = "".join(
        " " if ch in "\t\r\n" else ch
        for ch in message
        if ch in "\t\r\n" or unicodedata.category(ch)[0] != "C"
    )
    text = " ".join(kept.split())
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"
