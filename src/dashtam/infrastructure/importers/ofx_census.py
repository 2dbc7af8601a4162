"""A quick scan of an OFX file's tags before a single part is handed out.

It counts what the reader will meet (for progress and the transaction limit), finds the
SECLISTs that the statements need before their end, and sees which investment statements
are 401(k) plans, so every part of one says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dashtam.infrastructure.importers.ofx_reader import Body
from dashtam.infrastructure.importers.ofx_trades import TRADE_TAGS

_OPEN_ORDERS = frozenset(
    {
        f"OO{side}{kind}"
        for side in ("BUY", "SELL")
        for kind in ("DEBT", "MF", "OPT", "OTHER", "STOCK")
    }
    | {"SWITCHMF"}
)
_NAMES = {"INVSTMTRS", "INVTRANLIST", "INV401K", "SECLIST", "SECLISTMSGSRSV1"}
# Bank transactions are counted apart, in one pass that hands nothing back per match: a bank
# file is mostly STMTTRNs, and the loop below then meets only the few tags it decides on.
_STMTTRN = re.compile(rb"<\s*STMTTRN\s*>", re.IGNORECASE)
_TAGS = re.compile(
    rb"<\s*(/?)\s*("
    + b"|".join(sorted(n.encode() for n in _NAMES | TRADE_TAGS | _OPEN_ORDERS))
    + rb")\s*>",
    re.IGNORECASE,
)


@dataclass(slots=True)
class Census:
    transactions: int = 0  # STMTTRN and investment transactions, the reader's unit of progress
    investments: int = 0
    plans_401k: set[int] = field(default_factory=set)  # numbers of the 401(k) statements
    open_orders: int = 0
    seclists: list[tuple[int, int]] = field(default_factory=list)  # byte ranges


def take_census(data: bytes, body: Body) -> Census:
    census = Census(transactions=len(_STMTTRN.findall(data, body.start, body.end)))
    in_list = False
    seclist: int | None = None  # where the open SECLIST starts
    for match in _TAGS.finditer(data, body.start, body.end):
        name = match.group(2).decode("ascii").upper()
        if match.group(1):  # an end tag
            in_list = in_list and name != "INVTRANLIST"
            if seclist is not None and name in ("SECLIST", "SECLISTMSGSRSV1"):
                end = match.end() if name == "SECLIST" else match.start()
                census.seclists.append((seclist, end))
                seclist = None
        elif in_list and name in TRADE_TAGS:
            census.transactions += 1
        elif name == "INVSTMTRS":
            census.investments += 1
            in_list = False
        elif name == "INVTRANLIST":
            in_list = True
        elif name == "INV401K":
            census.plans_401k.add(census.investments)
        elif name in _OPEN_ORDERS:
            census.open_orders += 1
        elif name == "SECLIST":
            seclist = match.start()
    if seclist is not None:  # SGML that never closed it: the rest of the body is the SECLIST
        census.seclists.append((seclist, body.end))
    return census
