"""Control characters and extreme values: the same 422 on SQLite and PostgreSQL, never a 500."""

from __future__ import annotations

import httpx
import pytest

from dashtam.domain.users.value_objects import Role
from dashtam.infrastructure.persistence.models import ConnectionModel
from tests.api.finance_support import (
    CONNECTIONS_URL,
    TRANSACTIONS_URL,
    all_transactions,
    connect,
    count,
    finance_row_counts,
    imported,
    sign_up,
    upload,
)
from tests.api.support import (
    ADMIN_USERS_URL,
    FastContainer,
    assert_problem,
    bearer,
    create_user,
    tokens_for,
)
from tests.unit.importers.support import bank_ofx, stmttrn

CSV_MAPPING = {
    "date": "Date",
    "description": "Description",
    "amount": "Amount",
    "memo": "Memo",
    "transaction_id": "Id",
}


def _located(body: dict[str, object], *location: str) -> None:
    errors = body["errors"]
    assert isinstance(errors, list)
    assert [error["location"] for error in errors] == [".".join(location)], errors
    assert "control characters" in errors[0]["message"]


@pytest.mark.parametrize("q", ["caf\x00e", "\x00", "a\x1bb", "tab\there"])
async def test_a_search_with_a_control_character_is_422_naming_q(
    client: httpx.AsyncClient, q: str
) -> None:
    headers = await sign_up(client, "ada@example.com")

    response = await client.get(TRANSACTIONS_URL, params={"q": q}, headers=headers)

    _located(assert_problem(response, status=422, code="validation_error"), "query", "q")


async def test_a_label_with_a_control_character_is_422_and_nothing_is_stored(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    headers = await sign_up(client, "ada@example.com")

    response = await client.post(
        CONNECTIONS_URL, json={"provider": "csv-file", "label": "Chase\x00"}, headers=headers
    )

    _located(assert_problem(response, status=422, code="validation_error"), "body", "label")
    assert await count(container, ConnectionModel) == 0


@pytest.mark.parametrize(
    "params",
    [
        {"min_amount": "1e15"},
        {"max_amount": "-1000000000000000"},
        {"min_amount": "922337203685477.5808"},
        {"max_amount": "100000000000000"},
        {"min_amount": "1.00001"},
        {"max_amount": "NaN"},
    ],
)
async def test_amount_filters_beyond_any_stored_amount_are_422(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    headers = await sign_up(client, "ada@example.com")

    response = await client.get(TRANSACTIONS_URL, params=params, headers=headers)

    body = assert_problem(response, status=422, code="validation_error")
    assert body["errors"][0]["location"] == ".".join(["query", *params])


async def test_amount_filters_at_the_limit_work(client: httpx.AsyncClient) -> None:
    headers = await sign_up(client, "ada@example.com")
    ofx = await connect(client, headers, "ofx-file")
    data = bank_ofx(stmttrn(fitid="BIG", amount="99999999999999.9999"), stmttrn(fitid="S"))
    await imported(client, headers, ofx, "big.ofx", data=data)

    found = await all_transactions(
        client, headers, min_amount="99999999999999.9999", max_amount="+99999999999999.9999"
    )
    everything = await all_transactions(
        client, headers, min_amount="-99999999999999.9999", max_amount="99999999999999.9999"
    )

    assert [t["amount"] for t in found] == ["99999999999999.9999"]
    assert len(everything) == 2


async def test_ofx_with_control_characters_and_extreme_values(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    headers = await sign_up(client, "ada@example.com")
    ofx = await connect(client, headers, "ofx-file")
    refusals = {
        "fitid": (bank_ofx(stmttrn(fitid="T\x001")), "invalid_file"),
        "acctid": (bank_ofx(stmttrn(), account_id="12\x0034"), "invalid_file"),
        "amount": (bank_ofx(stmttrn(amount="922337203685477.58")), "invalid_amount"),
        "late": (
            bank_ofx(
                stmttrn(),
                ledger="<LEDGERBAL><BALAMT>1</BALAMT>"
                "<DTASOF>99991231235959[-12:X]</DTASOF></LEDGERBAL>",
            ),
            "invalid_date",
        ),
        "early": (bank_ofx(stmttrn(posted="00010101000000[+14:X]")), "invalid_date"),
    }
    for name, (data, code) in refusals.items():
        response = await upload(client, headers, ofx, f"{name}.ofx", data=data)
        assert_problem(response, status=422, code=code)
    assert await finance_row_counts(container) == (0, 0, 0)

    cleaned = bank_ofx(stmttrn(fitid="OK", name="SH\x00OP", memo="a\x00b"))
    await imported(client, headers, ofx, "cleaned\x00.ofx", data=cleaned)
    [transaction] = await all_transactions(client, headers)
    assert (transaction["description"], transaction["memo"]) == ("SHOP", "ab")


async def test_csv_with_control_characters(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    headers = await sign_up(client, "ada@example.com")
    csv = await connect(client, headers, "csv-file")
    bad_id = b"Date,Description,Amount,Memo,Id\n2026-11-02,Coffee,-3.50,m,T\x001\n"
    response = await upload(client, headers, csv, "bad.csv", data=bad_id, mapping=CSV_MAPPING)
    body = assert_problem(response, status=422, code="invalid_file")
    assert [(e["location"], e["type"]) for e in body["errors"]] == [
        ('line 2 column "Id"', "invalid_file")
    ]
    response = await upload(
        client, headers, csv, "a.csv", data=bad_id, mapping=CSV_MAPPING, account="a\x00"
    )
    _located(assert_problem(response, status=422, code="validation_error"), "body", "account")
    assert await finance_row_counts(container) == (0, 0, 0)

    good = b"Date,Description,Amount,Memo,Id\n2026-11-02,Cof\x00fee,-3.50,x\x00y,T1\n"
    await imported(client, headers, csv, "good.csv", data=good, mapping=CSV_MAPPING)
    [transaction] = await all_transactions(client, headers, q="coffee")
    assert (transaction["description"], transaction["memo"]) == ("Coffee", "xy")


async def test_admin_email_filter_with_a_control_character_is_422(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "root@example.com", role=Role.ADMIN)
    headers = bearer((await tokens_for(client, "root@example.com"))["access_token"])

    response = await client.get(ADMIN_USERS_URL, params={"email": "root\x00"}, headers=headers)

    _located(assert_problem(response, status=422, code="validation_error"), "query", "email")


@pytest.mark.parametrize(
    "path", [ADMIN_USERS_URL + "/", CONNECTIONS_URL + "/", "/api/v1/users/me/", "/health/"]
)
async def test_a_trailing_slash_is_404_never_a_redirect(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path, headers={"host": "evil.example"})

    assert_problem(response, status=404, code="not_found")
    assert "location" not in response.headers


@pytest.mark.parametrize("path", [TRANSACTIONS_URL, TRANSACTIONS_URL + ".csv"])
@pytest.mark.parametrize("value", ["0", "1700000000", "2026-1-2", "2026-11-02T00:00:00"])
async def test_dates_are_iso_only(client: httpx.AsyncClient, path: str, value: str) -> None:
    headers = await sign_up(client, "ada@example.com")

    response = await client.get(path, params={"to": value}, headers=headers)

    body = assert_problem(response, status=422, code="validation_error")
    assert body["errors"][0]["location"] == "query.to"
