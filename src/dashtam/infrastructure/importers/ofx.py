"""OFX 1.x (SGML), OFX 2.x (XML), QFX and QBO statements, read as a stream.

The reader hands out one batch of transactions at a time, so memory follows the batch size,
not the file. Real exports bend the specification (unclosed aggregates, leaves without end
tags, thousands separators, odd dates, reused FITIDs); one bent field must not make a whole
statement unreadable, and a field that cannot be read is refused saying where it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.imports.statement import (
    ImportLimits,
    ParsedAccount,
    ParsedStatement,
    ParsedTransaction,
    StatementPart,
    collect,
)
from dashtam.infrastructure.importers.ofx_fields import free_text
from dashtam.infrastructure.importers.ofx_reader import END, LEAF, START, Body, events, locate_body
from dashtam.infrastructure.importers.ofx_statement import Statement
from dashtam.infrastructure.importers.safety import (
    FileRejectedError,
    check_size,
    refuse_markup_declarations,
    reject,
)

_STATEMENTS = frozenset({"STMTRS", "CCSTMTRS"})
_INVESTMENTS = "INVSTMTRS"
# Aggregates whose leaves are gathered; a leaf goes to the nearest one, keyed by its path
# below it ("BANKACCTFROM/ACCTID" in STMTRS).
_GATHERED = frozenset({"SONRS", "STATUS", "STMTRS", "CCSTMTRS", "STMTTRN"})
# A STATUS of severity ERROR here means the bank sent an error instead of the statement.
_STATUS_OWNERS = frozenset({"SONRS", "STMTTRNRS", "CCSTMTTRNRS"})
_STATUS_MEANINGS = {
    "2000": "general error",
    "2003": "account not found",
    "2019": "duplicate request",
    "15000": "the password must be changed",
    "15500": "the user id or password was refused",
    "15502": "the user id or password was refused",
}
_CENSUS = re.compile(
    rb"<\s*(/?)\s*(STMTTRN|STMTRS|CCSTMTRS|INVSTMTRS|INVSTMTTRNRS)\s*>", re.IGNORECASE
)
# parse() wants everything at once: parts that large keep the per-part overhead negligible.
_WHOLE_FILE_BATCH = 50_000


class OfxParser:
    """The ``StatementParser`` for ``ofx-file`` connections (.ofx, .qfx, .qbo)."""

    format = "ofx"

    def parse(
        self, data: bytes, *, limits: ImportLimits
    ) -> Result[ParsedStatement, ValidationError]:
        parts = self.stream(data, limits=limits, batch_size=_WHOLE_FILE_BATCH)
        return collect(parts, format=self.format)

    def stream(
        self, data: bytes, *, limits: ImportLimits, batch_size: int
    ) -> Iterator[Result[StatementPart, ValidationError]]:
        """One part per ``batch_size`` transactions of a statement, and one closing each
        statement (it carries the balances); the first part names what was skipped."""
        try:
            yield from _Reader(data, limits, max(batch_size, 1)).parts()
        except FileRejectedError as exc:
            yield Failure(exc.error)


@dataclass(slots=True)
class _Frame:
    name: str
    depth: int
    fields: dict[str, str] = field(default_factory=dict)
    statement: Statement | None = None


@dataclass(slots=True)
class _Census:
    """What a quick scan of the tags finds, before a single part is handed out."""

    investments: int = 0
    transactions: int = 0


class _Reader:
    def __init__(self, data: bytes, limits: ImportLimits, batch_size: int) -> None:
        self._data = data
        self._limits = limits
        self._batch_size = batch_size
        self._body: Body | None = None
        self._census = _Census()
        self._numbers: dict[str, int] = {}
        self._done = 0
        self._skipped: dict[str, int] = {}
        self._server_time: str | None = None

    def parts(self) -> Iterator[Success[StatementPart]]:
        self._check()
        assert self._body is not None
        path: list[str] = []
        frames: list[_Frame] = []
        investing = False  # inside an investment statement: read past, not imported
        for kind, name, text in events(self._data, self._body):
            if kind == START:
                path.append(name)
                if investing:
                    continue
                if name == _INVESTMENTS:
                    investing = True
                elif name in _GATHERED:
                    frames.append(self._frame(name, len(path) - 1))
            elif kind == END:
                path.pop()
                if investing:
                    investing = name != _INVESTMENTS
                elif frames and frames[-1].depth == len(path):
                    part = self._close(frames.pop(), frames, path)
                    if part is not None:
                        yield Success(part)
            elif kind == LEAF and frames and not investing:
                frame = frames[-1]
                if len(path) > frame.depth + 1:
                    name = "/".join([*path[frame.depth + 1 :], name])
                frame.fields.setdefault(name, text)
        # Checked last: a bank's error status explains a missing statement better than this.
        if not self._numbers and self._census.investments:
            reject(
                "this file holds investment statements, which Dashtam does not import yet",
                code="investments_not_supported",
            )
        if not self._numbers:
            reject("there is no bank or credit card statement in the file", code="invalid_ofx")

    def _check(self) -> None:
        """Everything that refuses the whole file is checked before the first part."""
        check_size(self._data, self._limits)
        refuse_markup_declarations(self._data)
        self._body = body = locate_body(self._data)
        census = self._census
        investing = False
        for match in _CENSUS.finditer(self._data, body.start, body.end):
            closing, name = match.group(1), match.group(2).upper()
            if closing:
                investing = investing and name not in (b"INVSTMTRS", b"INVSTMTTRNRS")
            elif name == b"STMTTRN":
                census.transactions += 0 if investing else 1
            elif name == b"INVSTMTRS":
                census.investments, investing = census.investments + 1, True
            elif name != b"INVSTMTTRNRS":  # a bank or card statement
                investing = False
        if census.transactions > self._limits.max_transactions:
            reject(f"more than {self._limits.max_transactions} transactions", code="too_many_rows")
        if census.investments:
            self._skipped = {"investment statements": census.investments}

    def _frame(self, name: str, depth: int) -> _Frame:
        frame = _Frame(name, depth)
        if name in _STATEMENTS:
            number = self._numbers[name] = self._numbers.get(name, 0) + 1
            frame.statement = Statement(name, number, frame.fields)
        return frame

    def _close(self, frame: _Frame, frames: list[_Frame], path: list[str]) -> StatementPart | None:
        if frame.name == "STMTTRN":
            statement = next((f.statement for f in reversed(frames) if f.statement), None)
            if statement is None:
                return None  # a transaction outside any bank statement: not ours to read
            self._done += 1
            # The census refused too many already; this holds if it ever counts differently.
            if self._done > self._limits.max_transactions:
                reject(
                    f"more than {self._limits.max_transactions} transactions", code="too_many_rows"
                )
            statement.add(frame.fields)
            if len(statement.batch) < self._batch_size:
                return None
            account = statement.account()
            return None if account is None else self._part(account, statement.take())
        if frame.statement is not None:
            account = frame.statement.closing(self._server_time)
            return self._part(account, frame.statement.take())
        if frame.name == "SONRS":
            self._server_time = frame.fields.get("DTSERVER")
        elif frame.name == "STATUS" and path and path[-1] in _STATUS_OWNERS:
            _check_status(frame.fields, f"{path[-1]} STATUS")
        return None

    def _part(self, account: ParsedAccount, transactions: list[ParsedTransaction]) -> StatementPart:
        skipped, self._skipped = self._skipped, {}
        return StatementPart(
            account=account,
            transactions=transactions,
            done=self._done,
            total=self._census.transactions,
            skipped=skipped,
        )


def _check_status(fields: dict[str, str], location: str) -> None:
    if fields.get("SEVERITY", "").upper() != "ERROR":
        return
    code = fields.get("CODE", "").strip()
    said = free_text(fields.get("MESSAGE"), 200) or _STATUS_MEANINGS.get(code, "no reason given")
    reject(
        f"the bank sent an error instead of a statement (code {code or 'none'}): {said}",
        location=location,
        code="bank_error",
    )
