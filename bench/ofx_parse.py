"""OFX import parsing: time and peak memory for a 100,000-transaction statement.

    .venv/bin/python -m bench.ofx_parse [transactions]     (100,000 by default)

Each variant (OFX 1.x SGML with leaves unclosed, OFX 2.x XML) runs in a fresh process, so its
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


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def run_one(path: str, *, sgml: bool) -> None:
    # Read back as the upload arrives (one bytes object): building it here would set the peak.
    data = Path(path).read_bytes()
    before = _peak_mb()
    started = time.perf_counter()
    read = parts = 0
    # The XML variant passes 20 MB: the limit is raised so both measure the same statement.
    limits = ImportLimits(max_bytes=64 * 1024 * 1024)
    for part in OfxParser().stream(data, limits=limits, batch_size=BATCH_SIZE):
        read += len(part.unwrap().transactions)
        parts += 1
    elapsed = time.perf_counter() - started
    kind = "OFX 1.x SGML" if sgml else "OFX 2.x XML "
    print(
        f"{kind}: {len(data) / 1e6:5.1f} MB, {read} transactions in {parts} parts, "
        f"{elapsed:5.2f} s ({read / elapsed:,.0f}/s), "
        f"peak RSS {_peak_mb():6.1f} MB (before parsing {before:6.1f} MB)"
    )


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--make":
        Path(sys.argv[3]).write_bytes(make_ofx(int(sys.argv[4]), sgml=sys.argv[2] == "sgml"))
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        run_one(sys.argv[3], sgml=sys.argv[2] == "sgml")
        return 0
    transactions = sys.argv[1] if len(sys.argv) > 1 else str(DEFAULT_TRANSACTIONS)
    # Linux keeps a process's peak RSS across fork and exec: this process stays small (the
    # file is built in a child of its own), so each measuring child starts from nothing.
    with tempfile.TemporaryDirectory() as folder:
        for variant in ("sgml", "xml"):
            path = str(Path(folder) / f"statement-{variant}.ofx")
            for step in (["--make", variant, path, transactions], ["--one", variant, path]):
                subprocess.run([sys.executable, "-m", "bench.ofx_parse", *step], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
