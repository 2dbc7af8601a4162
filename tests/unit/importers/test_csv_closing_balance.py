"""Which running balance closes a CSV export, whichever way it is sorted, even for one day."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dashtam.infrastructure.importers.csv_file import CsvParser
from dashtam.infrastructure.importers.csv_presets import PRESETS
from tests.unit.importers.support import LIMITS, parsed

HEADER = "Date,Description,Amount,Balance\n"
# One day: 100.00, then -10.00 (90.00), then -10.00 (80.00). The balance after the day is 80.
OLDEST_FIRST = ["2026-11-02,Opening,100.00,100.00", "2026-11-02,Coffee,-10.00,90.00",
                "2026-11-02,Lunch,-10.00,80.00"]  # fmt: skip


def closing(lines: list[str]) -> Decimal | None:
    data = (HEADER + "\n".join(lines) + "\n").encode()
    [account] = parsed(CsvParser(PRESETS["generic"]).parse(data, limits=LIMITS)).accounts
    return account.balance


@pytest.mark.parametrize("order", ["oldest first", "newest first"])
def test_one_days_export_closes_on_the_balance_after_its_last_movement(order: str) -> None:
    lines = OLDEST_FIRST if order == "oldest first" else OLDEST_FIRST[::-1]
    assert closing(lines) == Decimal("80.00")


def test_several_days_are_ordered_by_their_dates() -> None:
    lines = ["2026-11-03,Rent,-500.00,-420.00", "2026-11-02,Pay,80.00,80.00"]
    assert closing(lines) == Decimal("-420.00")


def test_a_single_row_is_its_own_closing_balance() -> None:
    assert closing(["2026-11-02,Pay,80.00,80.00"]) == Decimal("80.00")
