"""Derived ids: stable across re-imports, row order and overlapping exports (see csv_ids)."""

from __future__ import annotations

import hashlib

from dashtam.infrastructure.importers.csv_file import CsvParser, layout_from
from dashtam.infrastructure.importers.csv_presets import PRESETS
from tests.unit.importers.support import LIMITS, fixture, parsed

HEADER = "Date,Description,Amount"


def ids(text: str, *, account: str | None = None, preset: str = "generic") -> list[str]:
    parser = CsvParser(PRESETS[preset], account=account)
    statement = parsed(parser.parse(text.encode(), limits=LIMITS))
    return [t.provider_transaction_id for t in statement.accounts[0].transactions]


def keyed(text: str, *, preset: str = "generic") -> dict[tuple[str, str, str], list[str]]:
    """Ids by the row's own content, so files in different orders can be compared."""
    parser = CsvParser(PRESETS[preset])
    statement = parsed(parser.parse(text.encode(), limits=LIMITS))
    found: dict[tuple[str, str, str], list[str]] = {}
    for t in statement.accounts[0].transactions:
        key = (t.posted_on.isoformat(), str(t.amount), t.description)
        found.setdefault(key, []).append(t.provider_transaction_id)
    return found


def documented(account: str, day: str, amount: str, text: str, occurrence: int) -> str:
    material = "\x1f".join((account, day, amount, text, str(occurrence)))
    return "csv:" + hashlib.sha256(material.encode()).hexdigest()[:40]


def test_the_id_is_the_documented_hash() -> None:
    text = f"{HEADER}\n2026-11-10,Blue  Bottle COFFEE,-4.75\n2026-11-10,blue bottle coffee,-4.750\n"
    assert ids(text) == [
        documented("main", "2026-11-10", "-4.7500", "blue bottle coffee", 1),
        documented("main", "2026-11-10", "-4.7500", "blue bottle coffee", 2),
    ]


def test_the_account_is_part_of_the_id() -> None:
    text = f"{HEADER}\n2026-11-10,Coffee,-4.75\n"
    assert ids(text, account="joint") == [documented("joint", "2026-11-10", "-4.7500", "coffee", 1)]
    assert ids(text, account="joint") != ids(text)


def test_identical_rows_on_one_day_are_two_transactions() -> None:
    text = f"{HEADER}\n2026-11-10,Coffee,-4.75\n2026-11-10,Coffee,-4.75\n2026-11-11,Coffee,-4.75\n"
    found = ids(text)
    assert len(set(found)) == 3
    # The third is the first coffee of its own day: numbering restarts per day.
    assert found[2] == documented("main", "2026-11-11", "-4.7500", "coffee", 1)


def test_newest_first_gives_the_same_ids_as_oldest_first() -> None:
    lines = fixture("chase_checking.csv").decode().splitlines()
    newest_first = "\n".join(lines) + "\n"
    oldest_first = "\n".join([lines[0], *reversed(lines[1:])]) + "\n"
    forward = keyed(newest_first, preset="chase-checking")
    backward = keyed(oldest_first, preset="chase-checking")
    # Each row keeps its id; the two equal coffees share a key and are interchangeable.
    assert {key: set(found) for key, found in forward.items()} == {
        key: set(found) for key, found in backward.items()
    }
    assert sum(len(set(found)) for found in forward.values()) == 6


def _export(first_day: int, last_day: int) -> str:
    rows = []
    for day in range(first_day, last_day + 1):
        rows.append(f"2026-11-{day:02d},Coffee,-4.75")
        rows.append(f"2026-11-{day:02d},Coffee,-4.75")  # two equal coffees every day
        rows.append(f"2026-11-{day:02d},Lunch {day % 3},-12.00")
    return "\n".join([HEADER, *rows]) + "\n"


def test_overlapping_exports_by_whole_days_add_nothing_twice() -> None:
    early, late = keyed(_export(1, 10)), keyed(_export(5, 15))
    shared = set(early) & set(late)
    assert len(shared) == 6 * 2  # days 5-10, a coffee key and a lunch key each
    assert all(early[key] == late[key] for key in shared)
    everything = {i for found in (early, late) for group in found.values() for i in group}
    assert everything == {i for group in keyed(_export(1, 15)).values() for i in group}
    assert len(everything) == 15 * 3


def test_a_bank_id_column_is_used_as_is() -> None:
    layout = layout_from(
        None,
        {"date": "Date", "description": "Description", "amount": "Amount", "transaction_id": "Id"},
    ).unwrap()
    data = b"Date,Description,Amount,Id\n2026-11-10,Coffee,-4.75,TX-9\n2026-11-10,Coffee,-4.75,\n"
    statement = parsed(CsvParser(layout).parse(data, limits=LIMITS))
    assert [t.provider_transaction_id for t in statement.accounts[0].transactions] == [
        "TX-9",
        documented("main", "2026-11-10", "-4.7500", "coffee", 1),
    ]
