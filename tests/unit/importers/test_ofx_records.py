"""A STMTTRN read in one step (a RECORD) says exactly what reading it tag by tag says.

Statements are generated with what banks really put in a transaction and with what must send
the reader back to reading tag by tag (an aggregate, a leaf that closes something, a lower-case
or unknown tag, a comment, a "<" in text, entities, non-ASCII text, SGML and XML framing,
closed and unclosed STMTTRNs). Both event streams, with each STMTTRN of plain leaves written as
its fields, must be the same.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dashtam.infrastructure.importers.ofx_reader import (
    END,
    LEAF,
    RECORD,
    START,
    Event,
    events,
    locate_body,
)

_PLAIN = ["TRNTYPE", "DTPOSTED", "TRNAMT", "FITID", "NAME", "MEMO", "CHECKNUM", "REFNUM"]
# Each of these makes the transaction one that is read tag by tag.
_OTHERS = ["memo", "DTEND", "BALAMT", "FOO", "STMTTRN"]
_TEXT = st.text(alphabet="AB z9.-&;<é\t\r\n", max_size=8) | st.sampled_from(
    ["&amp;", "&#233;", "CAFÉ", "", "  ", "-12.50", "20240105[-5:EST]"]
)


@st.composite
def transactions(draw: st.DrawFn, xml: bool) -> str:
    names = draw(st.lists(st.sampled_from(_PLAIN) | st.sampled_from(_OTHERS), max_size=7))
    parts = ["<STMTTRN>"]
    for name in names:
        text = draw(_TEXT)
        parts.append(
            f"<{name}>{text}"
            + (f"</{name}>" if xml else "")
            + draw(st.sampled_from(["", "\n", "\r\n  "]))
        )
    if draw(st.booleans()):
        parts.insert(draw(st.integers(1, len(parts))), "<PAYEE><NAME>SHOP</NAME></PAYEE>")
    if draw(st.booleans()):
        parts.insert(draw(st.integers(1, len(parts))), "<!-- note -->")
    if xml or draw(st.booleans()):
        parts.append("</STMTTRN>")
    return "".join(parts)


@st.composite
def statements(draw: st.DrawFn) -> bytes:
    xml = draw(st.booleans())
    body = "".join(draw(st.lists(transactions(xml), max_size=5)))
    text = (
        "<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD"
        + ("</CURDEF>" if xml else "")
        + f"<BANKTRANLIST>{body}</BANKTRANLIST><LEDGERBAL><BALAMT>1"
        + ("</BALAMT>" if xml else "")
        + "</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"
    )
    header = "OFXHEADER:100\r\nDATA:OFXSGML\r\nCHARSET:1252\r\n\r\n"
    return (header + text).encode(draw(st.sampled_from(["utf-8", "cp1252"])), errors="replace")


Normal = tuple[int, str, object]


def normal(stream: list[Event], records: list[dict[str, str]]) -> list[Normal]:
    """A STMTTRN of leaves only, however it was read, as one RECORD holding its fields."""
    result: list[Normal] = []
    taken = iter(records)
    index = 0
    while index < len(stream):
        kind, name, text = stream[index]
        if kind == RECORD:
            result.append((RECORD, name, next(taken)))
            index += 1
            continue
        if kind == START and name == "STMTTRN":
            fields: dict[str, str] = {}
            end = index + 1
            while end < len(stream) and stream[end][0] == LEAF:
                fields.setdefault(stream[end][1], stream[end][2])
                end += 1
            if end < len(stream) and stream[end][:2] == (END, "STMTTRN"):
                result.append((RECORD, name, fields))
                index = end + 1
                continue
        result.append((kind, name, text))
        index += 1
    return result


@settings(max_examples=400, deadline=None)
@given(statements())
def test_a_record_reads_as_its_tags_do(data: bytes) -> None:
    body = locate_body(data)
    tag_by_tag = list(events(data, body))
    records: list[dict[str, str]] = []
    at_once = list(events(data, body, records))
    assert normal(at_once, records) == normal(tag_by_tag, [])


def test_plain_transactions_are_read_as_records() -> None:
    # Not a test that could pass with the fast path never taken: the common forms are records.
    sgml = b"<OFX><BANKTRANLIST><STMTTRN><TRNAMT>-1.5\r\n<FITID>A1\r\n<NAME>SHOP &amp; CO\r\n"
    sgml += b"<STMTTRN><TRNAMT>2<FITID>A2</STMTTRN></BANKTRANLIST></OFX>"
    records: list[dict[str, str]] = []
    kinds = [kind for kind, _, _ in events(sgml, locate_body(sgml), records)]
    assert kinds == [START, RECORD, RECORD, END]
    assert records == [
        {"TRNAMT": "-1.5", "FITID": "A1", "NAME": "SHOP & CO"},
        {"TRNAMT": "2", "FITID": "A2"},
    ]
