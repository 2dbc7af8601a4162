"""OFX streaming: parts of one batch, balances last, memory that does not follow the file."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from decimal import Decimal

from dashtam.core.result import Failure, Success
from dashtam.domain.imports.statement import ImportLimits
from dashtam.infrastructure.importers.ofx import OfxParser
from tests.unit.importers.support import LIMITS, bank_ofx, stmttrn


def _big(count: int, *, sgml: bool = False) -> bytes:
    items = [
        stmttrn(
            fitid=f"F{i:08d}",
            amount=f"-{i % 97}.{i % 100:02d}",
            posted=f"2026{1 + i % 12:02d}{1 + i % 28:02d}",
            name=f"MERCHANT {i % 500} WITH A LONGER NAME",
            memo=f"POS PURCHASE {i} CARD ENDING 4242 TERMINAL 0042 " + "REFERENCE TEXT " * 8,
        )
        for i in range(count)
    ]
    ledger = "<LEDGERBAL><BALAMT>10.00</BALAMT><DTASOF>20261231</DTASOF></LEDGERBAL>"
    data = bank_ofx(*items, ledger=ledger)
    if sgml:  # leaves without end tags, as OFX 1.x writes them
        for tag in (b"TRNTYPE", b"DTPOSTED", b"TRNAMT", b"FITID", b"NAME", b"MEMO"):
            data = data.replace(b"</" + tag + b">", b"\r\n")
    return data


def test_parts_hold_one_batch_and_only_the_last_carries_the_balance() -> None:
    data = _big(10, sgml=True)
    parts = [p.unwrap() for p in OfxParser().stream(data, limits=LIMITS, batch_size=4)]

    assert [len(p.transactions) for p in parts] == [4, 4, 2]
    assert [p.done for p in parts] == [4, 8, 10]
    assert all(p.total == 10 for p in parts)
    assert all(p.account.balance is None for p in parts[:-1])
    assert parts[-1].account.balance == Decimal("10.00")
    whole = OfxParser().parse(data, limits=LIMITS).unwrap()
    assert [t for p in parts for t in p.transactions] == whole.accounts[0].transactions


def test_a_full_last_batch_is_followed_by_a_closing_part_with_the_balance() -> None:
    parts = [p.unwrap() for p in OfxParser().stream(_big(4), limits=LIMITS, batch_size=2)]
    assert [len(p.transactions) for p in parts] == [2, 2, 0]
    assert parts[-1].account.balance == Decimal("10.00")


def test_an_error_after_some_batches_ends_the_stream_with_a_failure() -> None:
    items = [stmttrn(fitid=str(i)) for i in range(7)] + [stmttrn(fitid="7", amount="x")]
    results = list(OfxParser().stream(bank_ofx(*items), limits=LIMITS, batch_size=3))
    assert [type(r) for r in results] == [Success, Success, Failure]
    last = results[-1]
    assert isinstance(last, Failure)
    assert last.error.details == {"location": "STMTRS #1 STMTTRN #8 TRNAMT"}


def test_too_many_transactions_are_refused_before_the_first_part() -> None:
    data = _big(5)
    results = list(OfxParser().stream(data, limits=ImportLimits(max_transactions=4), batch_size=1))
    assert len(results) == 1
    assert isinstance(results[0], Failure)
    assert results[0].error.code == "too_many_rows"


def _peak(work: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _stream_all(data: bytes) -> None:
    for part in OfxParser().stream(data, limits=LIMITS, batch_size=500):
        assert isinstance(part, Success)


def _parse_whole(data: bytes) -> None:
    whole = OfxParser().parse(data, limits=LIMITS)
    assert isinstance(whole, Success)


def test_streaming_memory_does_not_follow_the_file() -> None:
    # Per transaction, from the difference between two sizes: what every parse holds whatever
    # the file's size (a batch, compiled patterns, buffers) cancels out.
    small, large = _big(3_000, sgml=True), _big(9_000, sgml=True)
    _stream_all(small)  # warm up: what the first parse in a process builds once
    streamed = (_peak(lambda: _stream_all(large)) - _peak(lambda: _stream_all(small))) / 6_000
    whole = (_peak(lambda: _parse_whole(large)) - _peak(lambda: _parse_whole(small))) / 6_000
    file_bytes = (len(large) - len(small)) / 6_000
    # Streaming keeps ~100 bytes a transaction (digests that tell repeated FITIDs apart), well
    # under what the file's own text takes, or a parse that holds every transaction.
    assert streamed * 4 < whole, (streamed, whole)
    assert streamed * 2 < file_bytes, (streamed, file_bytes)
