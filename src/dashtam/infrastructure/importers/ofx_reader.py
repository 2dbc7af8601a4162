"""An incremental reader of OFX 1.x (SGML) and 2.x (XML) bodies: events, never a tree.

SGML leaf elements have no end tag (``<TRNAMT>-12.50`` ends at the next tag) and banks leave
aggregates unclosed too; the reader closes them the way the OFX 1.x DTD implies: an element
closes when its parent closes or when an element that belongs to an ancestor starts.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeAlias

from dashtam.infrastructure.importers.ofx_trades import TRADE_TAGS
from dashtam.infrastructure.importers.safety import reject

START, END, LEAF, RECORD = 0, 1, 2, 3
# (kind, element name, leaf text): small tuples, made and dropped one at a time. A RECORD is a
# whole STMTTRN of plain leaves, its fields handed over apart (see ``events``).
Event: TypeAlias = tuple[int, str, str]

_BOM = b"\xef\xbb\xbf"
_OFX_START = re.compile(rb"<\s*OFX\s*>", re.IGNORECASE)
_OFX_END = re.compile(rb"<\s*/\s*OFX\s*>", re.IGNORECASE)
# A tag, or anything else between angle brackets (a comment, a processing instruction);
# a "<" that opens neither (``A<B CORP``) stays text.
_MARKUP = re.compile(rb"<\s*(/?)\s*([A-Za-z][A-Za-z0-9._-]*)\s*(/?)\s*>|<[^<>]*>")
_XML_ENCODING = re.compile(rb"<\?xml[^>]*\bencoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']", re.I)
_HEADER_LINE = re.compile(rb"^\s*([A-Za-z]+)\s*:\s*(.*?)\s*$")
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]{2,6});")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'", "nbsp": "\u00a0"}

# Where each aggregate belongs in the OFX DTD, for the ones a statement uses; an element
# not listed here closes nothing when it starts. Investment lists are listed item by item, so
# an item left open (as banks leave STMTTRN open) closes when the next one starts.
_PARENTS: dict[str, frozenset[str]] = {
    name: frozenset(parents.split())
    for name, parents in {
        "SONRS": "SIGNONMSGSRSV1",
        "FI": "SONRS",
        "STMTTRNRS": "BANKMSGSRSV1",
        "STMTENDTRNRS": "BANKMSGSRSV1",
        "CCSTMTTRNRS": "CREDITCARDMSGSRSV1",
        "CCSTMTENDTRNRS": "CREDITCARDMSGSRSV1",
        "INVSTMTTRNRS": "INVSTMTMSGSRSV1",
        "STATUS": "SONRS STMTTRNRS CCSTMTTRNRS INVSTMTTRNRS STMTENDTRNRS CCSTMTENDTRNRS",
        "STMTRS": "STMTTRNRS",
        "CCSTMTRS": "CCSTMTTRNRS",
        "INVSTMTRS": "INVSTMTTRNRS",
        "BANKACCTFROM": "STMTRS",
        "CCACCTFROM": "CCSTMTRS",
        "BANKTRANLIST": "STMTRS CCSTMTRS",
        "STMTTRN": "BANKTRANLIST INVBANKTRAN",
        "PAYEE": "STMTTRN",
        "BANKACCTTO": "STMTTRN",
        "CCACCTTO": "STMTTRN",
        "LEDGERBAL": "STMTRS CCSTMTRS",
        "AVAILBAL": "STMTRS CCSTMTRS",
        "BALLIST": "STMTRS CCSTMTRS INVBAL INV401KBAL",
        "BAL": "BALLIST",
        "MKTGINFO": "STMTRS CCSTMTRS INVSTMTRS",
        "BALAMT": "LEDGERBAL AVAILBAL BAL",
        "DTASOF": "LEDGERBAL AVAILBAL BAL INVSTMTRS LOANINFO SECINFO",
        "DTSTART": "BANKTRANLIST INVTRANLIST YEARTODATE INCEPTODATE PERIODTODATE",
        "DTEND": "BANKTRANLIST INVTRANLIST YEARTODATE INCEPTODATE PERIODTODATE",
        "INVTRANLIST": "INVSTMTRS",
        "INVPOSLIST": "INVSTMTRS",
        "INVBAL": "INVSTMTRS",
        "INVOOLIST": "INVSTMTRS",
        "INV401K": "INVSTMTRS",
        "INV401KBAL": "INVSTMTRS",
        **dict.fromkeys((*TRADE_TAGS, "INVBANKTRAN"), "INVTRANLIST"),
        **dict.fromkeys(("POSDEBT", "POSMF", "POSOPT", "POSOTHER", "POSSTOCK"), "INVPOSLIST"),
        **dict.fromkeys(("STOCKINFO", "MFINFO", "DEBTINFO", "OPTINFO", "OTHERINFO"), "SECLIST"),
    }.items()
}
# Leaves that are empty in some exports: with no text they must not be taken for aggregates.
_LEAF_NAMES = """
    TRNTYPE DTPOSTED DTUSER DTAVAIL TRNAMT FITID CORRECTFITID CORRECTACTION SRVRTID CHECKNUM
    REFNUM SIC PAYEEID NAME EXTDNAME MEMO INV401KSOURCE CURDEF BANKID BRANCHID ACCTID ACCTTYPE
    ACCTKEY DTSTART DTEND BALAMT DTASOF CODE SEVERITY MESSAGE DTSERVER LANGUAGE TRNUID ORG FID
    ADDR1 ADDR2 ADDR3 CITY STATE POSTALCODE COUNTRY PHONE CURRATE CURSYM DTPROFUP DTACCTUP
    USERKEY TSKEYEXPIRE SESSCOOKIE ACCESSKEY INTU.BID INTU.USERID INTU.ACCTID INTU.BANKID
    BROKERID DTTRADE DTSETTLE REVERSALFITID UNIQUEID UNIQUEIDTYPE UNITS UNITPRICE MARKUP MARKDOWN
    COMMISSION TAXES FEES LOAD WITHHOLDING TAXEXEMPT TOTAL GAIN SUBACCTSEC SUBACCTFUND
    SUBACCTFROM SUBACCTTO LOANID LOANPRINCIPAL LOANINTEREST DTPAYROLL PRIORYEARCONTRIB
    STATEWITHHOLDING PENALTY BUYTYPE SELLTYPE OPTBUYTYPE OPTSELLTYPE SHPERCTRCT RELFITID RELTYPE
    SECURED SELLREASON ACCRDINT AVGCOSTBASIS INCOMETYPE OPTACTION TFERACTION POSTYPE DTPURCHASE
    OLDUNITS NEWUNITS NUMERATOR DENOMINATOR FRACCASH HELDINACCT MKTVAL DTPRICEASOF UNITSSTREET
    UNITSUSER REINVDIV REINVCG AVAILCASH MARGINBALANCE SHORTBALANCE BUYPOWER DESC BALTYPE VALUE
    CASHBAL PRETAX AFTERTAX MATCH PROFITSHARING ROLLOVER OTHERVEST OTHERNONVEST EMPLOYERNAME
    PLANID PLANJOINDATE SECNAME TICKER FIID RATING STOCKTYPE MFTYPE YIELD DTYIELDASOF ASSETCLASS
    FIASSETCLASS PARVALUE DEBTTYPE DEBTCLASS COUPONRT DTCOUPON COUPONFREQ CALLPRICE YIELDTOCALL
    DTCALL CALLTYPE YIELDTOMAT DTMAT OPTTYPE STRIKEPRICE DTEXPIRE TYPEDESC
"""
_LEAVES = frozenset(_LEAF_NAMES.split())

# A bank transaction as nearly every bank writes it: upper-case leaves, each with its text
# (and, in XML, its own end tag), then </STMTTRN>, or in SGML the next <STMTTRN> or the
# list's end. A leaf never matches <STMTTRN> nor another element's end tag, so a STMTTRN that
# holds anything else fails here at that tag, without reading on into the file.
_STMTTRN_BODY = re.compile(
    rb"((?:\s*<(?!STMTTRN>)([A-Z][A-Z0-9.]*)>[^<]*(?:</\2>)?)*)\s*"
    rb"(?:</STMTTRN>|(?=<(?:STMTTRN|/BANKTRANLIST)>))"
)
_STMTTRN_LEAF = re.compile(rb"<([A-Z][A-Z0-9.]*)>([^<]*)")
# Leaves that close nothing when they start (an element in _PARENTS may close the STMTTRN).
_RECORD_LEAVES = {name.encode(): name for name in _LEAVES - _PARENTS.keys()}


@dataclass(frozen=True, slots=True)
class Body:
    """Where the OFX element starts and ends in the file, and how its text is encoded."""

    start: int
    end: int
    encoding: str | None  # None: undeclared


def locate_body(data: bytes) -> Body:
    """Find ``<OFX>`` ... ``</OFX>`` after any header, blank lines or BOM; junk after is ignored."""
    opening = _OFX_START.search(data)
    if opening is None:
        reject("this is not an OFX file (it has no <OFX> element)", code="invalid_ofx")
        raise AssertionError("unreachable")
    # Without the closing tag the download was cut: the transaction at the cut may be half read.
    closing = _OFX_END.search(data, opening.end())
    if closing is None:
        reject("the file ends before </OFX> (is it complete?)", code="invalid_ofx")
        raise AssertionError("unreachable")
    return Body(opening.end(), closing.start(), _declared_encoding(data[: opening.start()]))


def _declared_encoding(header: bytes) -> str | None:
    header = header.lstrip(b"\x00\t\r\n ").removeprefix(_BOM)
    xml = _XML_ENCODING.search(header)
    if xml is not None:
        return _known_codec(xml.group(1).decode("ascii"))
    if header.startswith(b"<?"):
        return "utf-8"  # XML without an encoding declaration is UTF-8
    keys: dict[str, str] = {}
    for line in re.split(rb"\r\n|\r|\n", header):
        match = _HEADER_LINE.match(line)
        if match:
            keys[match.group(1).decode().upper()] = match.group(2).decode("latin-1").upper()
    if not keys:
        return None
    if keys.get("ENCODING", "").replace("-", "") == "UTF8":
        return "utf-8"
    charset = keys.get("CHARSET", "NONE")
    if charset in ("1252", "WINDOWS-1252", "CP1252"):
        return "cp1252"
    if charset in ("ISO-8859-1", "8859-1", "ISO8859-1", "LATIN-1"):
        return "latin-1"
    return _known_codec(charset) if charset != "NONE" else "ascii"


def _known_codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_value(raw: bytes, encoding: str | None) -> str:
    """One element's text: the declared charset, else UTF-8, else cp1252 (banks mislabel)."""
    text = raw.decode("ascii") if raw.isascii() else _decode_non_ascii(raw, encoding)
    if "&" in text:
        text = _ENTITY.sub(_entity, text)
    return text.strip()


def _decode_non_ascii(raw: bytes, encoding: str | None) -> str:
    # A valid multi-byte UTF-8 sequence is next to impossible in cp1252 text, so an "ASCII"
    # file that has one was written in UTF-8; cp1252 then latin-1 take whatever is left.
    for candidate in (encoding, "utf-8", "cp1252"):
        if candidate is None:
            continue
        try:
            return raw.decode(candidate)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name[0] != "#":
        return _NAMED.get(name.lower(), match.group(0))
    code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return match.group(0)
    return chr(code)


def events(data: bytes, body: Body, records: list[dict[str, str]] | None = None) -> Iterator[Event]:
    """START/END/LEAF events of the elements inside ``<OFX>``, in file order.

    With ``records``, a STMTTRN in a BANKTRANLIST whose content is plain leaves (nearly all of
    them) is read in one step: its fields, first occurrence of a name kept, are appended to
    ``records`` and a single RECORD event stands for its START, LEAF and END events. Anything
    else in it (an aggregate, a comment, a lower-case or unknown tag) reads it tag by tag."""
    # The hot loop of every import (several tags per transaction): names are looked up once
    # per distinct tag, and plain ASCII text is decoded without the general path.
    stack: list[str] = []
    names: dict[bytes, str] = {}
    encoding = body.encoding
    pending: str | None = None  # a start tag whose content is not known yet
    text_start = position = body.start
    while (markup := _MARKUP.search(data, position, body.end)) is not None:
        position = markup.end()
        slash, raw_name, empty = markup.groups()
        if raw_name is None:
            continue  # a comment, a processing instruction, or text that holds a "<"
        name = names.get(raw_name)
        if name is None:
            name = names[raw_name] = raw_name.decode("ascii").upper()
        closing = slash == b"/"
        if pending is not None:
            ends_it = closing and name == pending
            raw = data[text_start : markup.start()]
            yield _pending_event(pending, raw, encoding, stack, ended=ends_it)
            pending = None
            if ends_it:
                text_start = markup.end()
                continue
        text_start = markup.end()
        if closing:
            if name in stack:
                while (top := stack.pop()) != name:
                    yield END, top, ""
                yield END, top, ""
            continue
        if name in _PARENTS and stack and stack[-1] not in _PARENTS[name]:
            yield from _close_for(stack, _PARENTS[name])
        if empty:  # <NAME/>
            yield LEAF, name, ""
        elif (
            records is not None
            and name == "STMTTRN"
            and stack
            and stack[-1] == "BANKTRANLIST"
            and (fields := _plain_record(data, position, body.end, encoding)) is not None
        ):
            record, position = fields
            records.append(record)
            text_start = position
            yield RECORD, name, ""
        else:
            pending = name
    if pending is not None:
        yield LEAF, pending, decode_value(data[text_start : body.end], encoding)
    while stack:
        yield END, stack.pop(), ""


def _pending_event(
    name: str, raw: bytes, encoding: str | None, stack: list[str], *, ended: bool
) -> Event:
    """What a start tag was, now that the markup after it is known: a leaf with its text, an
    empty leaf, or the START of an aggregate (pushed on ``stack``)."""
    if raw.strip():
        if raw.isascii() and b"&" not in raw:
            return LEAF, name, raw.decode("ascii").strip()
        return LEAF, name, decode_value(raw, encoding)
    if ended or name in _LEAVES:
        return LEAF, name, ""
    stack.append(name)
    return START, name, ""


def _plain_record(
    data: bytes, start: int, end: int, encoding: str | None
) -> tuple[dict[str, str], int] | None:
    """The fields of a STMTTRN of plain leaves starting at ``start`` and where it ends, or
    None when it holds anything else. The same fields the tag-by-tag reading gives."""
    body = _STMTTRN_BODY.match(data, start, end)
    if body is None:
        return None
    leaves = body.group(1)
    # Reversed, so that the first occurrence of a repeated name is the one kept.
    raw_fields = dict(reversed(_STMTTRN_LEAF.findall(leaves)))
    # An empty one is left to the tag-by-tag reading (<STMTTRN></STMTTRN> reads as a leaf).
    if not raw_fields or not raw_fields.keys() <= _RECORD_LEAVES.keys():
        return None
    if leaves.isascii() and b"&" not in leaves:
        fields = {
            _RECORD_LEAVES[name]: raw.decode("ascii").strip() for name, raw in raw_fields.items()
        }
    else:
        fields = {
            _RECORD_LEAVES[name]: decode_value(raw, encoding) for name, raw in raw_fields.items()
        }
    return fields, body.end()


def _close_for(stack: list[str], parents: frozenset[str]) -> Iterator[Event]:
    """Close what a starting element cannot be inside of, when one of its parents is open."""
    if any(open_name in parents for open_name in stack):
        while stack[-1] not in parents:
            yield END, stack.pop(), ""
