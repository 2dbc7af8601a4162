"""Transaction ids for CSV rows: the bank's when it gives one, else derived from the row.

A layout with a ``transaction_id`` column (Monzo's ``Transaction ID``, Amex's ``Reference``, a
mapping's ``transaction_id``) uses that cell as the id, unchanged.

A row without one gets ``csv:`` followed by the first 40 hex digits of the SHA-256 of these
fields, joined by the unit separator U+001F:

1. the account (``ParsedAccount.provider_account_id``, ``main`` unless the import names one);
2. the posting date, ISO 8601 (``2026-11-02``);
3. the signed amount after the layout's sign rules, fixed-point with four decimals
   (``-4.7500``), so ``-4.75`` and ``-4.750`` are one amount;
4. the description after NFKC normalisation, case folding and collapsing every run of
   whitespace to one space (``BLUE  Bottle`` and ``blue bottle`` are one description);
5. the occurrence: 1 for the first row with the same four fields in the file, 2 for the
   second, and so on.

What this guarantees:

- two identical charges on one day are two transactions (occurrences 1 and 2);
- re-importing the same file adds nothing;
- the order of the rows does not matter: rows sharing the four fields are interchangeable, so
  a newest-first export gets the same ids as the same export oldest-first;
- an export that overlaps an earlier one by whole days adds nothing for those days: each day
  holds the same identical rows, numbered alike. (The limit: a day split between two exports,
  each holding one of two identical rows, numbers both 1, so the second is missing until a file
  with the whole day is imported; it then comes as occurrence 2.)

What it cannot do: a row the bank rewrites between exports (a pending card payment whose
description or amount changes when it posts) gets a new id, so both versions are kept. Payee
and memo are not part of the id: two equal rows that differ only there may trade ids when the
file's order changes (the import then updates them; it adds nothing).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import Counter
from datetime import date
from decimal import Decimal

_FOUR_PLACES = Decimal("0.0001")


class DerivedIds:
    """Numbers identical rows as they are met; holds an 8-byte digest per distinct row."""

    def __init__(self, account: str) -> None:
        self._account = account
        self._seen: Counter[int] = Counter()

    def next_id(self, posted_on: date, amount: Decimal, description: str) -> str:
        key = (
            self._account,
            posted_on.isoformat(),
            f"{amount.quantize(_FOUR_PLACES):f}",
            normalise_description(description),
        )
        digest = hashlib.blake2b("\x1f".join(key).encode(), digest_size=8).digest()
        seen = int.from_bytes(digest)
        self._seen[seen] += 1
        material = "\x1f".join((*key, str(self._seen[seen])))
        return f"csv:{hashlib.sha256(material.encode()).hexdigest()[:40]}"


def normalise_description(text: str) -> str:
    # ASCII is its own NFKC form (most descriptions: skip the normalisation).
    normal = text if text.isascii() else unicodedata.normalize("NFKC", text)
    return " ".join(normal.casefold().split())
