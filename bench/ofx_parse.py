"""OFX import parsing: time and peak memory for a 100,000-transaction statement.

    .venv/bin/python -m bench.ofx_parse [transactions]     (100,000 by default)

Each variant (OFX 1.x SGML with leaves unclosed, OFX 2.x XML, an OFX 2.x brokerage statement
of trades with its positions and SECLIST) runs in a fresh process, so its
peak RSS (``resource.getrusage``) is its own: "before" is the process with the file in memory,
"peak" is after streaming every part with batch_size 1000, as the import does.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dashtam.domain.imports.statement import ImportLimits
from dashtam.infrastructure.importers.ofx import OfxParser

BATCH_SIZE = 1000
DEFAULT_TRANSACTIONS = 100_000


def make_ofx(transactions: int, *, sgml: bool) -> bytes:
    """A bank statement with this many transactions, in OFX 1.x or 2.x framing."""

    def leaf(name: str, value: str) -> str:
        return f"<{name}>{value}\r\n" if sgml else f"<{name}>{value}</{name}>\n"

    parts: list[str] = []
    if sgml:
        parts.append("OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nCHARSET:1252\r\n\r\n")
    else:
        parts.append(
            '<?xml version="1.0" encoding="UTF-8"?>\n<?OFX OFXHEADER="200" VERSION="220"?>\n'
        )
    parts.append("<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1</TRNUID><STMTRS>")
    parts.append(leaf("CURDEF", "USD") + "<BANKACCTFROM>" + leaf("BANKID", "1"))
    parts.append(leaf("ACCTID", "12345678") + leaf("ACCTTYPE", "CHECKING") + "</BANKACCTFROM>")
    parts.append("<BANKTRANLIST>" + leaf("DTSTART", "20240101") + leaf("DTEND", "20241231"))
    for index in range(transactions):
        parts.append(
            "<STMTTRN>"
            + leaf("TRNTYPE", "DEBIT")
            + leaf("DTPOSTED", f"2024{1 + index % 12:02d}{1 + index % 28:02d}120000[-5:EST]")
            + leaf("TRNAMT", f"-{index % 997}.{index % 100:02d}")
            + leaf("FITID", f"2024{index:010d}")
            + leaf("NAME", f"MERCHANT NUMBER {index % 5000} WITH A LONG NAME")
            + leaf("MEMO", "POS PURCHASE")
            + "</STMTTRN>\n"
        )
    parts.append("</BANKTRANLIST>" + "<LEDGERBAL>" + leaf("BALAMT", "1234.56"))
    parts.append(leaf("DTASOF", "20241231") + "</LEDGERBAL></STMTRS></STMTTRNRS>")
    parts.append("</BANKMSGSRSV1></OFX>\r\n")
    return "".join(parts).encode()


def make_investment_ofx(transactions: int, *, securities: int = 200) -> bytes:
    """A brokerage statement (OFX 2.x): trades over ``securities`` stocks, their positions and
    the SECLIST after the statement, as brokers write it."""

    def secid(index: int) -> str:
        return f"<SECID><UNIQUEID>S{index:08d}</UNIQUEID><UNIQUEIDTYPE>CUSIP</UNIQUEIDTYPE></SECID>"

    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<?OFX OFXHEADER="200" VERSION="220"?>\n',
        "<OFX><INVSTMTMSGSRSV1><INVSTMTTRNRS><TRNUID>1</TRNUID><INVSTMTRS>",
        "<DTASOF>20241231</DTASOF><CURDEF>USD</CURDEF>",
        "<INVACCTFROM><BROKERID>b.example</BROKERID><ACCTID>X-1</ACCTID></INVACCTFROM>",
        "<INVTRANLIST><DTSTART>20240101</DTSTART><DTEND>20241231</DTEND>",
    ]
    for index in range(transactions):
        day = f"2024{1 + index % 12:02d}{1 + index % 28:02d}"
        parts.append(
            f"<BUYSTOCK><INVBUY><INVTRAN><FITID>T{index:010d}</FITID><DTTRADE>{day}</DTTRADE>"
            f"</INVTRAN>{secid(index % securities)}<UNITS>{1 + index % 9}.125</UNITS>"
            f"<UNITPRICE>{10 + index % 90}.1234567</UNITPRICE><COMMISSION>0.65</COMMISSION>"
            f"<TOTAL>-{(1 + index % 9) * (10 + index % 90)}.00</TOTAL>"
            "<SUBACCTSEC>CASH</SUBACCTSEC><SUBACCTFUND>CASH</SUBACCTFUND></INVBUY>"
            "<BUYTYPE>BUY</BUYTYPE></BUYSTOCK>\n"
        )
    parts.append("</INVTRANLIST><INVPOSLIST>")
    for index in range(securities):
        parts.append(
            f"<POSSTOCK><INVPOS>{secid(index)}<HELDINACCT>CASH</HELDINACCT><POSTYPE>LONG"
            "</POSTYPE><UNITS>100</UNITS><UNITPRICE>12.5</UNITPRICE><MKTVAL>1250.00</MKTVAL>"
            "<DTPRICEASOF>20241231</DTPRICEASOF></INVPOS></POSSTOCK>"
        )
    parts.append("</INVPOSLIST><INVBAL><AVAILCASH>100.00</AVAILCASH><MARGINBALANCE>0")
    parts.append("</MARGINBALANCE><SHORTBALANCE>0</SHORTBALANCE></INVBAL></INVSTMTRS>")
    parts.append("</INVSTMTTRNRS></INVSTMTMSGSRSV1><SECLISTMSGSRSV1><SECLIST>")
    for index in range(securities):
        parts.append(
            f"<STOCKINFO><SECINFO>{secid(index)}<SECNAME>Company {index}</SECNAME>"
            f"<TICKER>T{index}</TICKER></SECINFO></STOCKINFO>"
        )
    parts.append("</SECLIST></SECLISTMSGSRSV1></OFX>\n")
    return "".join(parts).encode()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def run_one(path: str, *, variant: str) -> None:
    # Read back as the upload arrives (one bytes object): building it here would set the peak.
    data = Path(path).read_bytes()
    before = _peak_mb()
    started = time.perf_counter()
    read = parts = 0
    # The XML variant passes 20 MB: the limit is raised so both measure the same statement.
    limits = ImportLimits(max_bytes=64 * 1024 * 1024)
    for result in OfxParser().stream(data, limits=limits, batch_size=BATCH_SIZE):
        part = result.unwrap()
        investment = part.investment
        read += len(part.transactions) + (len(investment.transactions) if investment else 0)
        parts += 1
    elapsed = time.perf_counter() - started
    kind = {"sgml": "OFX 1.x SGML", "xml": "OFX 2.x XML ", "invest": "OFX 2.x trades"}[variant]
    print(
        f"{kind}: {len(data) / 1e6:5.1f} MB, {read} transactions in {parts} parts, "
        f"{elapsed:5.2f} s ({read / elapsed:,.0f}/s), "
        f"peak RSS {_peak_mb():6.1f} MB (before parsing {before:6.1f} MB)"
    )


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--make":
        variant, count = sys.argv[2], int(sys.argv[4])
        made = (
            make_investment_ofx(count)
            if variant == "invest"
            else make_ofx(count, sgml=variant == "sgml")
        )
        Path(sys.argv[3]).write_bytes(made)
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        run_one(sys.argv[3], variant=sys.argv[2])
        return 0
    transactions = sys.argv[1] if len(sys.argv) > 1 else str(DEFAULT_TRANSACTIONS)
    # Linux keeps a process's peak RSS across fork and exec: this process stays small (the
    # file is built in a child of its own), so each measuring child starts from nothing.
    with tempfile.TemporaryDirectory() as folder:
        for variant in ("sgml", "xml", "invest"):
            path = str(Path(folder) / f"statement-{variant}.ofx")
            for step in (["--make", variant, path, transactions], ["--one", variant, path]):
                subprocess.run([sys.executable, "-m", "bench.ofx_parse", *step], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
