"""Odd but plausible uploads end as a 422 naming the problem, never a 500 or a partial import."""

from __future__ import annotations

import httpx
import pytest

from tests.api.finance_support import (
    all_transactions,
    connect,
    finance_row_counts,
    fixture_bytes,
    imported,
    sign_up,
    upload,
)
from tests.api.support import FastContainer, assert_problem

CHASE_HEADER = b"Details,Posting Date,Description,Amount,Type,Balance,Check or Slip #\r\n"


async def test_variants_the_parsers_accept(client: httpx.AsyncClient) -> None:
    headers = await sign_up(client, "ada@example.com")
    ofx = await connect(client, headers, "ofx-file")
    csv = await connect(client, headers, "csv-file")
    bom_ofx = b"\xef\xbb\xbf" + fixture_bytes("savings.qfx")
    debit_credit = (
        b"Date;Text;Out;In\n"
        b"2026-11-01;Salary;;1.234,56\n"
        b"2026-11-02;Rent;-800,00;\n"
        b"2026-11-03;Refund;;(5,00)\n"
    )
    mapping = {"date": "Date", "description": "Text", "debit": "Out", "credit": "In"}

    with_bom = await imported(client, headers, ofx, "bom.qfx", data=bom_ofx)
    split = await imported(client, headers, csv, "split.csv", data=debit_credit, mapping=mapping)

    assert with_bom["transactions_new"] == 4
    assert split["transactions_new"] == 3
    by_text = {t["description"]: t["amount"] for t in await all_transactions(client, headers)}
    # Debits always lower, credits always raise the balance, whatever sign the cell had.
    assert (by_text["Salary"], by_text["Rent"], by_text["Refund"]) == ("1234.56", "-800.00", "5.00")


async def test_a_csv_header_without_rows_is_refused(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "csv-file")

    header_only = await upload(
        client, headers, connection, "h.csv", data=CHASE_HEADER, preset="chase-checking"
    )
    wrong_layout = await upload(
        client, headers, connection, "bank_of_america.csv", preset="chase-checking"
    )

    assert_problem(header_only, status=422, code="empty_file")
    body = assert_problem(wrong_layout, status=422, code="invalid_csv")
    assert '"Posting Date"' in body["detail"]
    assert await finance_row_counts(container) == (0, 0, 0)


@pytest.mark.parametrize("backend", ["sqlite"])  # the parser's bug, not the database's
async def test_an_impossible_time_zone_offset_is_an_invalid_date(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "ofx-file")
    data = fixture_bytes("checking_ofx1_sgml.ofx").replace(b"[-5:EST]", b"[-25:EST]")

    response = await upload(client, headers, connection, "tz.ofx", data=data)

    assert_problem(response, status=422, code="invalid_date")
    assert await finance_row_counts(container) == (0, 0, 0)


@pytest.mark.parametrize("backend", ["sqlite"])  # the parser's bug, not the database's
async def test_an_oversized_csv_cell_is_refused_with_its_line(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "csv-file")
    data = CHASE_HEADER + b'DEBIT,11/18/2026,"' + b"x" * 200_000 + b'",-1.00,DEBIT_CARD,1.00,,\r\n'

    response = await upload(
        client, headers, connection, "wide.csv", data=data, preset="chase-checking"
    )

    body = assert_problem(response, status=422, code="invalid_csv")
    assert "line 2" in body["detail"]
    assert await finance_row_counts(container) == (0, 0, 0)


@pytest.mark.parametrize("backend", ["sqlite"])  # the parser's bug, not the database's
@pytest.mark.parametrize(
    "option",
    [
        {"delimiter": ";;"},  # raises TypeError in csv.reader: a 500
        {"decimal_separator": "x"},  # "-54.21" silently becomes -5421
    ],
)
async def test_a_mapping_with_an_impossible_separator_is_refused(
    client: httpx.AsyncClient, container: FastContainer, option: dict[str, str]
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "csv-file")
    mapping = {"date": "Posting Date", "description": "Description", "amount": "Amount", **option}

    response = await upload(client, headers, connection, "chase_checking.csv", mapping=mapping)

    assert_problem(response, status=422, code="invalid_mapping")
    assert await finance_row_counts(container) == (0, 0, 0)


@pytest.mark.parametrize("backend", ["sqlite"])  # the parser's bug, not the database's
async def test_a_truncated_ofx_file_is_refused(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "ofx-file")
    cut = fixture_bytes("creditcard_ofx2.ofx")[:900]  # an interrupted download

    response = await upload(client, headers, connection, "cut.ofx", data=cut)

    assert_problem(response, status=422, code="invalid_ofx")
    assert await finance_row_counts(container) == (0, 0, 0)
