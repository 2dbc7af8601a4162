"""A position's cost: stated by OFX 2.1+ as an average per unit (AVGCOSTBASIS), else unknown."""

from __future__ import annotations

from decimal import Decimal

from dashtam.core.result import Success
from dashtam.domain.imports.statement import ImportLimits
from dashtam.infrastructure.importers.ofx import OfxParser

POSITION = (
    "<POSSTOCK><INVPOS><SECID><UNIQUEID>037833100</UNIQUEID><UNIQUEIDTYPE>CUSIP</UNIQUEIDTYPE>"
    "</SECID><HELDINACCT>CASH</HELDINACCT><POSTYPE>LONG</POSTYPE><UNITS>{units}</UNITS>"
    "<UNITPRICE>230</UNITPRICE><MKTVAL>{value}</MKTVAL>{cost}</INVPOS></POSSTOCK>"
)
DOCUMENT = """<?xml version="1.0" encoding="UTF-8"?>
<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>
<OFX><INVSTMTMSGSRSV1><INVSTMTTRNRS><TRNUID>1</TRNUID>
<STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>
<INVSTMTRS><DTASOF>20261130</DTASOF><CURDEF>USD</CURDEF>
<INVACCTFROM><BROKERID>b.example</BROKERID><ACCTID>X-1</ACCTID></INVACCTFROM>
<INVPOSLIST>{positions}</INVPOSLIST>
<INVBAL><AVAILCASH>10.00</AVAILCASH><MARGINBALANCE>0</MARGINBALANCE><SHORTBALANCE>0</SHORTBALANCE></INVBAL>
</INVSTMTRS></INVSTMTTRNRS></INVSTMTMSGSRSV1></OFX>
"""


def positions(*rows: tuple[str, str, str]) -> list[tuple[Decimal, Decimal | None]]:
    body = "".join(POSITION.format(units=u, value=v, cost=c) for u, v, c in rows)
    data = DOCUMENT.format(positions=body).encode()
    parts = list(OfxParser().stream(data, limits=ImportLimits(), batch_size=100))
    assert all(isinstance(p, Success) for p in parts), parts
    [investment] = [
        p.value.investment
        for p in parts
        if isinstance(p, Success) and p.value.investment and p.value.investment.positions
    ]
    return [(p.market_value, p.cost_basis) for p in investment.positions]


def test_the_average_cost_times_the_units_is_the_cost() -> None:
    assert positions(("3.5", "805.00", "<AVGCOSTBASIS>151.123456</AVGCOSTBASIS>")) == [
        (Decimal("805.00"), Decimal("528.9321")),  # 3.5 x 151.123456 = 528.932096, to 4 places
    ]


def test_without_it_the_cost_is_unknown_not_zero() -> None:
    assert positions(("3.5", "805.00", "")) == [(Decimal("805.00"), None)]
