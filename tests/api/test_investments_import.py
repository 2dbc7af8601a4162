"""Investment statements imported end to end through the API, on SQLite and PostgreSQL:
exact units, prices and totals; re-import adds nothing; a later statement moves the value
history and net worth."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.api.finance_support import (
    ACCOUNTS_URL,
    NET_WORTH_URL,
    connect,
    fixture_bytes,
    sign_up,
    upload,
)

FILE = "invest_schwab_ofx2.ofx"


async def get(client: httpx.AsyncClient, url: str, headers: dict[str, str], **params: Any) -> Any:
    response = await client.get(url, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def trades(client: httpx.AsyncClient, headers: dict[str, str], account: str) -> list[Any]:
    items: list[Any] = []
    cursor: str | None = None
    while True:
        params = {"limit": 50, **({"cursor": cursor} if cursor else {})}
        page = await get(
            client, f"{ACCOUNTS_URL}/{account}/investment-transactions", headers, **params
        )
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def a_month_later(data: bytes) -> bytes:
    """The same statement as of a month later (every date and price date moved), where one
    position is worth more."""
    text = data.decode()
    for july in ("20240731200000", "<DTPRICEASOF>20240731<"):
        text = text.replace(july, july.replace("202407", "202408"))
    text = text.replace("5150.64", "5250.64")
    # ...and one trade more: an August buy (the July trades overlap).
    new_trade = (
        "<BUYSTOCK><INVBUY><INVTRAN><FITID>2024080112349999</FITID><DTTRADE>20240801"
        "</DTTRADE></INVTRAN><SECID><UNIQUEID>023135106</UNIQUEID><UNIQUEIDTYPE>CUSIP"
        "</UNIQUEIDTYPE></SECID><UNITS>2</UNITS><UNITPRICE>180.125</UNITPRICE>"
        "<TOTAL>-360.25</TOTAL><SUBACCTSEC>CASH</SUBACCTSEC><SUBACCTFUND>CASH</SUBACCTFUND>"
        "</INVBUY><BUYTYPE>BUY</BUYTYPE></BUYSTOCK>"
    )
    text = text.replace("<BUYSTOCK>", new_trade + "<BUYSTOCK>", 1)
    return text.encode()


async def brokerage_accounts(client: httpx.AsyncClient, headers: dict[str, str]) -> list[Any]:
    accounts = (await get(client, ACCOUNTS_URL, headers))["items"]
    return [a for a in accounts if a["type"] == "brokerage"]


async def test_an_investment_statement_imports_exactly_and_only_once(
    client: httpx.AsyncClient,
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "ofx-file")
    first = await upload(client, headers, connection, FILE)
    assert first.status_code == 200, first.text
    report = first.json()
    assert report["investment_transactions_new"] > 20
    assert report["holdings_added"] > 0

    [account] = [
        a for a in await brokerage_accounts(client, headers) if a["number"].endswith("9876")
    ]
    items = await trades(client, headers, account["id"])
    by_fitid = {t["provider_transaction_id"]: t for t in items}
    slices = by_fitid["2024070112345001"]
    assert (slices["kind"], slices["units"], slices["unit_price"]) == (
        "buy",
        "0.4512345678",
        "221.55",
    )
    assert slices["trade_date"] == "2024-07-01"
    # The file's FITID reused for two different dividends: two trades, not one.
    assert sum(1 for key in by_fitid if key.startswith("2024071912345013")) == 2
    kinds = {t["kind"] for t in items}
    assert {"buy", "sell", "income", "reinvest", "transfer_in", "transfer_out", "split"} <= kinds

    again = (await upload(client, headers, connection, FILE)).json()
    assert (again["investment_transactions_new"], again["holdings_added"]) == (0, 0)
    assert again["investment_transactions_unchanged"] == report["investment_transactions_new"]

    holdings = await get(client, f"{ACCOUNTS_URL}/{account['id']}/holdings", headers)
    units = {(h["security"]["unique_id"], h["held_in"]): h["units"] for h in holdings["items"]}
    # The file holds 11 in the cash sub-account and 4 in margin: two positions, as written.
    assert (units[("46090E103", "cash")], units[("46090E103", "margin")]) == ("11", "4")
    costs = {
        (h["security"]["unique_id"], h["held_in"]): (h["cost_basis"], h["unrealised_gain"])
        for h in holdings["items"]
    }
    # No AVGCOSTBASIS in the file. The fund's buy, sale and reinvestment explain all its 23.5324
    # units: 3000.00 paid, 1000.1367 sold at average cost, 10.04 reinvested. The transferred-in
    # shares have no known cost.
    assert Decimal(costs[("808509855", "cash")][0]) == Decimal("2009.9033")
    assert Decimal(costs[("808509855", "cash")][1]) == Decimal("16.7067")
    assert costs[("46090E103", "cash")] == (None, None)
    [totals] = holdings["totals"]
    value = Decimal(totals["total"])
    assert Decimal(account["balance"]) == value, "the account is worth its cash and positions"


async def test_a_later_statement_moves_value_history_and_net_worth(
    client: httpx.AsyncClient,
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "ofx-file")
    july = fixture_bytes(FILE)
    assert (await upload(client, headers, connection, "july.ofx", data=july)).status_code == 200
    before = (await get(client, NET_WORTH_URL, headers))["items"]
    august = await upload(client, headers, connection, "aug.ofx", data=a_month_later(july))
    assert august.status_code == 200, august.text
    # The July trades again, and one new: only the new one is added.
    assert (
        august.json()["investment_transactions_new"],
        august.json()["investment_transactions_updated"],
    ) == (1, 0)

    [account] = [
        a for a in await brokerage_accounts(client, headers) if a["number"].endswith("9876")
    ]
    history = (await get(client, f"{ACCOUNTS_URL}/{account['id']}/value-history", headers))["items"]
    assert [re.match(r"\d{4}-\d{2}", p["as_of"])[0] for p in history] == ["2024-07", "2024-08"]  # type: ignore[index]
    assert Decimal(history[1]["positions"]) - Decimal(history[0]["positions"]) == Decimal("100")
    after = (await get(client, NET_WORTH_URL, headers))["items"]
    usd = {item["currency"]: item for item in before}["USD"]
    moved = {item["currency"]: item for item in after}["USD"]
    assert Decimal(moved["net_worth"]) - Decimal(usd["net_worth"]) == Decimal("100")
    assert moved["prices_as_of"].startswith("2024-08")


async def test_a_positions_csv_export_becomes_holdings(client: httpx.AsyncClient) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "csv-file")
    first = await upload(
        client, headers, connection, "holdings_fidelity.csv", preset="fidelity-positions"
    )
    assert first.status_code == 200, first.text
    assert first.json()["holdings_added"] > 0
    again = await upload(
        client, headers, connection, "holdings_fidelity.csv", preset="fidelity-positions"
    )
    assert again.json()["holdings_added"] == 0
    everything = await get(client, "/api/v1/holdings", headers)
    assert everything["items"], everything
    for item in everything["items"]:
        assert item["security"]["unique_id_type"] in {"TICKER", "CUSIP"}
        assert sum(Decimal(a["units"]) for a in item["accounts"]) == Decimal(item["units"])


@pytest.mark.parametrize(
    "name",
    [
        "invest_fidelity_ofx1.qfx",
        "invest_schwab_ofx2.ofx",
        "invest_401k_ofx1.qfx",
        "invest_options_debt_ofx2.ofx",
        "invest_mixed_bank_ofx1.qfx",
    ],
)
async def test_every_kind_of_investment_file_imports_once(
    client: httpx.AsyncClient, name: str
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "ofx-file")
    first = await upload(client, headers, connection, name)
    assert first.status_code == 200, first.text
    report = first.json()
    assert report["investment_transactions_new"] + report["holdings_added"] > 0
    again = (await upload(client, headers, connection, name)).json()
    assert (again["investment_transactions_new"], again["investment_transactions_updated"]) == (
        0,
        0,
    )
    assert (again["holdings_added"], again["transactions_new"]) == (0, 0)
    assert again["investment_transactions_unchanged"] == report["investment_transactions_new"]
    for account in await brokerage_accounts(client, headers):
        stored = await trades(client, headers, account["id"])
        assert all(
            Decimal(t["total"]) == Decimal(t["total"]).quantize(Decimal("0.0001")) for t in stored
        )
