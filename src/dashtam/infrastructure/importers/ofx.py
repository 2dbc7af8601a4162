"""OFX 1.x (SGML), OFX 2.x (XML), QFX and QBO statements, read as a stream.

Bank, credit card and investment statements come out in file order, each as its account's
parts; an investment statement's parts carry its trades, positions and cash balances.

The reader hands out one batch of transactions at a time, so memory follows the batch size,
not the file. Real exports bend the specification (unclosed aggregates, leaves without end
tags, thousands separators, odd dates, reused FITIDs); one bent field must not make a whole
statement unreadable, and a field that cannot be read is refused saying where it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeAlias

from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.imports.investments import InvestmentData, ParsedSecurity
from dashtam.domain.imports.statement import (
    ImportLimits,
    ParsedAccount,
    ParsedStatement,
    StatementPart,
    collect,
)
from dashtam.infrastructure.importers.ofx_census import Census, take_census
from dashtam.infrastructure.importers.ofx_fields import free_text
from dashtam.infrastructure.importers.ofx_investments import InvestmentStatement
from dashtam.infrastructure.importers.ofx_reader import (
    LEAF,
    RECORD,
    START,
    Body,
    events,
    locate_body,
)
from dashtam.infrastructure.importers.ofx_securities import read_securities
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
# below it ("BANKACCTFROM/ACCTID" in STMTRS). Investment lists gather each of their items.
_GATHERED = frozenset({"SONRS", "STATUS", "STMTTRN", _INVESTMENTS, *_STATEMENTS})
# Read past: the SECLIST was read ahead, open orders are only counted (skipped).
_PASSED = frozenset({"SECLIST", "INVOOLIST"})
# A STATUS of severity ERROR here means the bank sent an error instead of the statement.
_STATUS_OWNERS = frozenset({"SONRS", "STMTTRNRS", "CCSTMTTRNRS", "INVSTMTTRNRS"})
_STATUS_MEANINGS = {
    "2000": "general error",
    "2003": "account not found",
    "2019": "duplicate request",
    "15000": "the password must be changed",
    "15500": "the user id or password was refused",
    "15502": "the user id or password was refused",
}
# parse() wants everything at once: parts that large keep the per-part overhead negligible.
_WHOLE_FILE_BATCH = 50_000

AnyStatement: TypeAlias = Statement | InvestmentStatement


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
        statement (it carries the balances, and an investment statement's positions); the
        first part names what was skipped, the first investment part carries the SECLIST."""
        try:
            yield from _Reader(data, limits, max(batch_size, 1)).parts()
        except FileRejectedError as exc:
            yield Failure(exc.error)


@dataclass(slots=True)
class _Frame:
    name: str
    depth: int
    role: str  # the element's name, or TRADE, POSITION, BAL for an investment list's items
    fields: dict[str, str] = field(default_factory=dict)
    statement: AnyStatement | None = None


class _Reader:
    def __init__(self, data: bytes, limits: ImportLimits, batch_size: int) -> None:
        self._data = data
        self._limits = limits
        self._batch_size = batch_size
        self._body: Body | None = None
        self._census = Census()
        self._numbers: dict[str, int] = {}
        self._done = 0
        self._skipped: dict[str, int] = {}
        self._securities: list[ParsedSecurity] = []
        self._server_time: str | None = None

    def parts(self) -> Iterator[Success[StatementPart]]:
        self._check()
        assert self._body is not None
        path: list[str] = []
        frames: list[_Frame] = []
        passing = 0  # the depth of an aggregate read past, 0 when none is open
        records: list[dict[str, str]] = []
        for kind, name, text in events(self._data, self._body, records):
            if kind == RECORD:  # a whole STMTTRN: its START, leaves and END at once
                fields = records.pop()
                if not passing:
                    record = _Frame(name, len(path), name, fields)
                    part = self._close(record, frames, path)
                    if part is not None:
                        yield Success(part)
            elif kind == LEAF:
                if frames and not passing:
                    frame = frames[-1]
                    if len(path) > frame.depth + 1:
                        name = "/".join([*path[frame.depth + 1 :], name])
                    frame.fields.setdefault(name, text)
            elif kind == START:
                path.append(name)
                if passing:
                    continue
                if name in _PASSED:
                    passing = len(path)
                elif (role := _role(name, path, frames)) is not None:
                    frames.append(self._frame(name, role, len(path) - 1))
            else:  # END
                path.pop()
                if passing:
                    passing = 0 if len(path) < passing else passing
                elif frames and frames[-1].depth == len(path):
                    part = self._close(frames.pop(), frames, path)
                    if part is not None:
                        yield Success(part)
        if not self._numbers:
            reject(
                "there is no bank, credit card or investment statement in the file",
                code="invalid_ofx",
            )

    def _check(self) -> None:
        """Everything that refuses the whole file is checked before the first part."""
        check_size(self._data, self._limits)
        refuse_markup_declarations(self._data)
        self._body = body = locate_body(self._data)
        self._census = census = take_census(self._data, body)
        if census.transactions > self._limits.max_transactions:
            reject(f"more than {self._limits.max_transactions} transactions", code="too_many_rows")
        self._securities = read_securities(self._data, census.seclists, body.encoding)
        if census.open_orders:
            self._skipped["open orders"] = census.open_orders
        if self._securities and not census.investments:
            self._skipped["securities"] = len(self._securities)

    def _frame(self, name: str, role: str, depth: int) -> _Frame:
        frame = _Frame(name, depth, role)
        if name in _STATEMENTS or name == _INVESTMENTS:
            number = self._numbers[name] = self._numbers.get(name, 0) + 1
            frame.statement = (
                InvestmentStatement(number, frame.fields, is_401k=number in self._census.plans_401k)
                if name == _INVESTMENTS
                else Statement(name, number, frame.fields)
            )
        return frame

    def _close(self, frame: _Frame, frames: list[_Frame], path: list[str]) -> StatementPart | None:
        if frame.statement is not None:
            account = frame.statement.closing(self._server_time)
            return self._part(account, frame.statement, closing=True)
        statement = next((f.statement for f in reversed(frames) if f.statement), None)
        if frame.role in ("STMTTRN", "TRADE"):
            return self._transaction(frame, statement)
        if isinstance(statement, InvestmentStatement):
            if frame.role == "POSITION":
                statement.add_position(frame.name, frame.fields)
            elif frame.role == "BAL":
                statement.add_balance(frame.fields, plan="INV401KBAL" in path)
        elif frame.name == "SONRS":
            self._server_time = frame.fields.get("DTSERVER")
        elif frame.name == "STATUS" and path and path[-1] in _STATUS_OWNERS:
            _check_status(frame.fields, f"{path[-1]} STATUS")
        return None

    def _transaction(self, frame: _Frame, statement: AnyStatement | None) -> StatementPart | None:
        if statement is None:
            return None  # a transaction outside any statement: not ours to read
        self._done += 1
        # The census refused too many already; this holds if it ever counts differently.
        if self._done > self._limits.max_transactions:
            reject(f"more than {self._limits.max_transactions} transactions", code="too_many_rows")
        if frame.role == "STMTTRN":
            statement.add(frame.fields)
        elif isinstance(statement, InvestmentStatement):
            statement.add_trade(frame.name, frame.fields)
        if statement.pending() < self._batch_size:
            return None
        account = statement.account()
        return None if account is None else self._part(account, statement, closing=False)

    def _part(
        self, account: ParsedAccount, statement: AnyStatement, *, closing: bool
    ) -> StatementPart:
        skipped, self._skipped = self._skipped, {}
        investment: InvestmentData | None = None
        securities: tuple[ParsedSecurity, ...] = ()
        if isinstance(statement, InvestmentStatement):
            investment = statement.investment(closing=closing, server_time=self._server_time)
            securities, self._securities = tuple(self._securities), []
        return StatementPart(
            account=account,
            transactions=statement.take(),
            done=self._done,
            # Aggregates the specification does not name are read too, but not counted ahead.
            total=max(self._census.transactions, self._done),
            skipped=skipped,
            investment=investment,
            securities=securities,
        )


def _role(name: str, path: list[str], frames: list[_Frame]) -> str | None:
    """Whether the element starting (the last of ``path``) is gathered, and as what."""
    if name in _GATHERED:
        return name
    parent = path[-2] if len(path) > 1 else ""
    if parent == "INVTRANLIST" and name != "INVBANKTRAN":
        return "TRADE"
    if parent == "INVPOSLIST":
        return "POSITION"
    if name == "BAL" and any(f.name == _INVESTMENTS for f in frames):
        return "BAL"
    return None


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
