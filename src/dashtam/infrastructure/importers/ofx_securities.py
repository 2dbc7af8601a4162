"""The file's ``SECLIST``: what each security a statement names is (stock, fund, bond...).

Brokerages put it after the statements that use it, so it is read ahead, from the byte
ranges the census found, before the first part is handed out. It is small: one entry per
security held or traded.
"""

from __future__ import annotations

from collections.abc import Sequence

from dashtam.core.result import Success
from dashtam.domain.imports.investments import ParsedSecurity
from dashtam.domain.investments.entities import SecurityId, SecurityKind
from dashtam.domain.money import parse_currency
from dashtam.infrastructure.importers.ofx_aggregate import Aggregate
from dashtam.infrastructure.importers.ofx_reader import END, LEAF, START, Body, events

_KINDS = {
    "STOCKINFO": SecurityKind.STOCK,
    "MFINFO": SecurityKind.MUTUAL_FUND,
    "DEBTINFO": SecurityKind.DEBT,
    "OPTINFO": SecurityKind.OPTION,
    "OTHERINFO": SecurityKind.OTHER,
}
# OFX has no ETF aggregate; brokers that say so write it in one of these (never guessed from
# a name or a yield).
_ETF_MARKERS = ("STOCKTYPE", "MFTYPE", "ASSETCLASS", "FIASSETCLASS", "TYPEDESC")


def read_securities(
    data: bytes, ranges: Sequence[tuple[int, int]], encoding: str | None
) -> list[ParsedSecurity]:
    """Every ``*INFO`` of every SECLIST, in file order; a security described twice, once."""
    found: dict[SecurityId, ParsedSecurity] = {}
    counts: dict[str, int] = {}
    for start, end in ranges:
        path: list[str] = []
        fields: dict[str, str] | None = None
        for kind, name, text in events(data, Body(start, end, encoding)):
            if kind == START:
                path.append(name)
                if len(path) == 2:  # SECLIST/STOCKINFO
                    fields = {}
            elif kind == END:
                path.pop()
                if len(path) == 1 and fields is not None:
                    counts[name] = counts.get(name, 0) + 1
                    security = _security(name, fields, f"SECLIST {name} #{counts[name]}")
                    found.setdefault(security.security_id, security)
                    fields = None
            elif kind == LEAF and fields is not None:
                fields.setdefault("/".join([*path[2:], name]), text)
    return list(found.values())


def _security(tag: str, fields: dict[str, str], where: str) -> ParsedSecurity:
    read = Aggregate(fields, where)
    # OPTINFO also has a SECID of its own: the underlying security's.
    security_id = read.security("SECINFO/SECID", required=True)
    assert security_id is not None
    ticker = read.free("SECINFO/TICKER", 32)
    kind = _KINDS.get(tag, SecurityKind.OTHER)
    if kind in (SecurityKind.STOCK, SecurityKind.MUTUAL_FUND, SecurityKind.OTHER) and any(
        read.code(marker) == "ETF" for marker in _ETF_MARKERS
    ):
        kind = SecurityKind.ETF
    return ParsedSecurity(
        security_id=security_id,
        name=read.free("SECINFO/SECNAME", 255) or ticker or security_id.unique_id,
        ticker=ticker,
        kind=kind,
        currency=_currency(read.text("SECINFO/CURRENCY/CURSYM")),
        unit_price=read.units("SECINFO/UNITPRICE"),
        price_as_of=read.moment("SECINFO/DTASOF"),
    )


def _currency(text: str | None) -> str | None:
    # Descriptive only (amounts are in the statement's currency): an odd code is dropped
    # rather than refusing the file.
    if text is None:
        return None
    result = parse_currency(text)
    return result.value if isinstance(result, Success) else None
