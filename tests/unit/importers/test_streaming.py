"""Streaming: a CSV import holds one batch of parsed rows in memory, not the whole file."""

from __future__ import annotations

import tracemalloc
from decimal import Decimal

from dashtam.core.result import Failure, Success
from dashtam.domain.imports.statement import ImportLimits
from dashtam.infrastructure.importers.csv_file import CsvParser, layout_from
from dashtam.infrastructure.importers.ofx import OfxParser
from tests.unit.importers.support import fixture

LIMITS = ImportLimits()


def _chase() -> CsvParser:
    return CsvParser(layout_from("chase-checking", None).unwrap())


def _big_csv(rows: int) -> bytes:
    lines = ["Details,Posting Date,Description,Amount,Type,Balance,Check or Slip #"]
    lines += [
        f"DEBIT,11/{1 + i % 28:02d}/2026,SHOP {i} WITH A LONGER DESCRIPTION,"
        f"-{i % 97}.{i % 100:02d},DEBIT_CARD,{1000 + i}.00,"
        for i in range(rows)
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def test_parts_hold_at_most_one_batch_and_the_last_carries_the_balance() -> None:
    parts = [
        part.unwrap()
        for part in _chase().stream(fixture("chase_checking.csv"), limits=LIMITS, batch_size=2)
    ]
    assert [len(part.transactions) for part in parts] == [2, 2, 2, 0]
    assert all(part.account.balance is None for part in parts[:-1])
    assert parts[-1].account.balance == Decimal("4873.12")
    assert parts[-1].done == parts[-1].total
    # The same rows, in file order, as the whole-file parse.
    whole = _chase().parse(fixture("chase_checking.csv"), limits=LIMITS).unwrap()
    streamed = [t for part in parts for t in part.transactions]
    assert streamed == whole.accounts[0].transactions


def test_an_error_after_some_batches_ends_the_stream_with_a_failure() -> None:
    data = _big_csv(10) + b"DEBIT,13/45/2026,BROKEN,-1.00,DEBIT_CARD,1.00,\r\n"
    results = list(_chase().stream(data, limits=LIMITS, batch_size=3))
    assert all(isinstance(result, Success) for result in results[:-1])
    assert len(results) == 4  # three full batches, then the failure at line 12
    last = results[-1]
    assert isinstance(last, Failure)
    assert last.error.details == {"location": "line 12"}


def test_streaming_memory_does_not_grow_with_the_file() -> None:
    data = _big_csv(20_000)

    tracemalloc.start()
    try:
        for part in _chase().stream(data, limits=LIMITS, batch_size=500):
            assert isinstance(part, Success)
        _, streamed_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        whole = _chase().parse(data, limits=LIMITS)
        _, whole_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(whole, Success)
    assert len(whole.value.accounts[0].transactions) == 20_000
    # Both hold the decoded text (and an 8-byte digest per row for duplicate numbering); only
    # the whole-file parse also holds 20,000 parsed rows.
    assert streamed_peak * 2 < whole_peak, (streamed_peak, whole_peak)
    assert streamed_peak < 3 * len(data), (streamed_peak, len(data))


def test_ofx_streams_in_batches_too() -> None:
    parts = [
        part.unwrap()
        for part in OfxParser().stream(
            fixture("checking_ofx1_sgml.ofx"), limits=LIMITS, batch_size=3
        )
    ]
    assert [len(part.transactions) for part in parts] == [3, 1]
    assert parts[-1].done == parts[-1].total == 4
