"""What an import reports and keeps beyond counts: skipped parts, outdated rows, details."""

from __future__ import annotations

import httpx

from tests.api.finance_support import (
    ACCOUNTS_URL,
    TRANSACTIONS_URL,
    connect,
    fixture_bytes,
    sign_up,
    upload,
)

STATEMENT = """OFXHEADER:100
DATA:OFXSGML
VERSION:102
ENCODING:USASCII
CHARSET:1252

<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>021000021<ACCTID>55501234<ACCTTYPE>CHECKING</BANKACCTFROM>
<BANKTRANLIST><DTSTART>20261001<DTEND>{end}
<STMTTRN><TRNTYPE>FEE<DTPOSTED>20261003<TRNAMT>{fee}<FITID>F-1<NAME>Overdraft fee</STMTTRN>
<STMTTRN><TRNTYPE>CHECK<DTPOSTED>20261004<TRNAMT>-80.00<FITID>C-1<CHECKNUM>1042<NAME>Check</STMTTRN>
</BANKTRANLIST>
<LEDGERBAL><BALAMT>{balance}<DTASOF>{end}</LEDGERBAL>
<AVAILBAL><BALAMT>{available}<DTASOF>{end}</AVAILBAL>
</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
"""


def statement(end: str, fee: str, balance: str, available: str) -> bytes:
    return STATEMENT.format(end=end, fee=fee, balance=balance, available=available).encode()


async def test_an_older_statement_does_not_revert_the_banks_correction(
    client: httpx.AsyncClient,
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "ofx-file")
    # October's statement charged 35.00; November's shows the fee corrected to 25.00.
    november = statement("20261130", "-25.00", "900.00", "850.00")
    october = statement("20261031", "-35.00", "1000.00", "990.00")
    first = await upload(client, headers, connection, "nov.ofx", data=november)
    assert first.status_code == 200, first.text
    late = await upload(client, headers, connection, "oct.ofx", data=october)
    assert late.status_code == 200, late.text
    report = late.json()
    assert (report["transactions_updated"], report["transactions_outdated"]) == (0, 2)

    items = (await client.get(TRANSACTIONS_URL, headers=headers)).json()["items"]
    by_id = {item["provider_transaction_id"]: item for item in items}
    assert by_id["F-1"]["amount"] == "-25.00"
    assert (by_id["C-1"]["check_number"], by_id["C-1"]["transfer_id"]) == ("1042", None)
    [account] = (await client.get(ACCOUNTS_URL, headers=headers)).json()["items"]
    assert (account["balance"], account["available_balance"]) == ("900.00", "850.00")


async def test_a_mixed_file_imports_its_investment_statement_too(
    client: httpx.AsyncClient,
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "ofx-file")
    response = await upload(client, headers, connection, "mixed_bank_card_investment.ofx")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["skipped"] == {}
    assert report["accounts_created"] == 4  # checking, savings, the card and the brokerage
    types = {a["type"] for a in (await client.get(ACCOUNTS_URL, headers=headers)).json()["items"]}
    assert "brokerage" in types


async def test_a_file_of_investments_only_imports(client: httpx.AsyncClient) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "ofx-file")
    response = await upload(client, headers, connection, "investments_only.qfx")
    assert response.status_code == 200, response.text
    assert response.json()["accounts_created"] == 1


async def test_a_csv_sent_to_an_ofx_connection_says_so(client: httpx.AsyncClient) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "ofx-file")
    response = await upload(
        client, headers, connection, "chase.ofx", data=fixture_bytes("chase_checking.csv")
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "format_mismatch"
    assert "CSV export" in problem["detail"]
    assert "</OFX>" not in problem["detail"]
