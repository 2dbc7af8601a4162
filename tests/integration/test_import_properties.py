"""Overlapping exports of one statement, imported in any order, store it exactly once.

A generated statement is cut into 1-5 runs of whole days that may overlap, as a user
downloads a bank's history bit by bit; the slices are imported, shuffled, into one connection
and the whole statement once into another. Both must then hold the same transactions (provider
id, amount, date, description, payee, memo, status) and the same balance, as many as the
statement holds (counted without the importer's ids), and importing any slice again must
change nothing. Every test runs the real import use case on SQLite and PostgreSQL.

What the properties deliberately leave out, because the importer documents them as limits:

- a day split between two CSV exports that each hold one of its two identical rows: both
  number theirs 1, so one is missing until a file with the whole day arrives (csv_ids.py).
  Slices here are whole days, as banks export;
- an OFX FITID the bank reuses on *different days* for different transactions: once those days
  are in different files, a reused FITID cannot be told from the bank correcting its
  transaction, so the later statement wins. Reuse within one day is generated;
- ambiguous CSV dates (03/04) in an order only the rest of the file shows: every layout here
  is read in its usual order (US month first in English, day first in German or a mapping);
- pending rows and several accounts per file (the reconciliation work covers those).
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dashtam.application.finance.commands import CreateConnection, ImportReport, ImportStatement
from dashtam.application.users.commands import RegisterUser
from dashtam.bootstrap import Container
from dashtam.core.result import Success
from dashtam.domain.audit import AuditContext
from dashtam.domain.imports.statement import CsvOptions
from dashtam.infrastructure.persistence.models.finance import AccountModel, TransactionModel
from tests.integration.import_properties_support import (
    CsvStyle,
    OfxStyle,
    Statement,
    csv_file,
    csv_styles,
    expected_transactions,
    ofx_file,
    ofx_styles,
    slicings,
    statements,
)

# Derandomized: CI sees the same examples every run; one database per test, one user each.
PROPERTY = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_emails = itertools.count()
Days = tuple[date, date]


@dataclass(frozen=True, slots=True)
class Case:
    statement: Statement
    style: OfxStyle | CsvStyle
    slices: list[Days]  # in import order

    @property
    def provider(self) -> str:
        return "ofx-file" if isinstance(self.style, OfxStyle) else "csv-file"

    @property
    def options(self) -> CsvOptions:
        if isinstance(self.style, OfxStyle):
            return CsvOptions()
        return CsvOptions(**self.style.layout.options)

    def file(self, first: date, last: date) -> bytes:
        part = self.statement.between(first, last)
        if isinstance(self.style, OfxStyle):
            return ofx_file(part, self.style, first=first, last=last)
        return csv_file(part, self.style)

    def describe(self) -> str:
        rows = "\n".join(
            f"  {r.posted_on} {r.amount} {r.payee!r} memo={r.memo!r} fitid={r.fitid}"
            for r in self.statement.rows
        )
        slices = ", ".join(f"{first}..{last}" for first, last in self.slices)
        return f"{self.style}\nslices in import order: {slices}\nrows:\n{rows}"

    def whole(self) -> bytes:
        days = self.statement.days()
        return self.file(days[0], days[-1])


@st.composite
def cases(draw: st.DrawFn, *, ofx: bool) -> Case:
    statement = draw(statements(ofx=ofx))
    style: OfxStyle | CsvStyle = draw(ofx_styles) if ofx else draw(csv_styles)
    return Case(statement, style, draw(slicings(statement)))


@PROPERTY
@given(case=cases(ofx=True))
async def test_ofx_slices_in_any_order_store_the_statement_once(
    container: Container, case: Case
) -> None:
    await check_slices_add_up(container, case, ofx=True)


@PROPERTY
@given(case=cases(ofx=False))
async def test_csv_slices_in_any_order_store_the_statement_once(
    container: Container, case: Case
) -> None:
    await check_slices_add_up(container, case, ofx=False)


async def check_slices_add_up(container: Container, case: Case, *, ofx: bool) -> None:
    for label in coverage(case):
        event(label)  # shown by --hypothesis-show-statistics: what the examples exercised
    note(case.describe())  # printed only for a failing example
    sliced, whole = await owner(container, case), await owner(container, case)
    reports = [await run(container, sliced, case, case.file(*days)) for days in case.slices]
    union = await run(container, whole, case, case.whole())

    kept = await stored(container, sliced[0])
    assert kept == await stored(container, whole[0])
    assert await balance(container, sliced[0]) == await balance(container, whole[0])
    # Counted from the generated rows, not from the importer's ids: nothing lost, nothing twice.
    held = Counter((day, amount, text, memo) for day, amount, text, _, memo, _ in kept.values())
    assert held == expected_transactions(case.statement, ofx=ofx)
    assert sum(r.transactions_new for r in reports) == union.transactions_new == len(kept)

    for first, last in case.slices:
        again = await run(container, sliced, case, case.file(first, last))
        size = expected_transactions(case.statement.between(first, last), ofx=ofx).total()
        assert (again.transactions_new, again.transactions_updated) == (0, 0)
        assert again.transactions_unchanged + again.transactions_outdated == size
    assert await stored(container, sliced[0]) == kept


def coverage(case: Case) -> list[str]:
    rows = case.statement.rows
    labels = [f"{len(case.slices)} slices"]
    if isinstance(case.style, OfxStyle):
        labels.append(f"OFX {'SGML' if case.style.sgml else 'XML'}, time {case.style.time!r}")
    else:
        labels.append(f"CSV {case.style.layout.header[0]}, newest first {case.style.newest_first}")
    days = [
        day for first, last in case.slices for day in case.statement.days() if first <= day <= last
    ]
    if len(days) > len(set(days)):
        labels.append("slices overlap")
    if max(Counter((r.posted_on, r.amount, r.payee, r.memo) for r in rows).values()) > 1:
        labels.append("identical rows on one day")
    fitids = Counter(r.fitid for r in rows if r.fitid is not None)
    if any(
        len({r.content() for r in rows if r.fitid == f}) > 1 for f, n in fitids.items() if n > 1
    ):
        labels.append("a FITID reused for other content")
    if any(r.fitid is None for r in rows) and isinstance(case.style, OfxStyle):
        labels.append("missing FITIDs")
    return labels


async def owner(container: Container, case: Case) -> tuple[UUID, UUID]:
    """A fresh user and one connection of theirs: every example starts from nothing."""
    user = await container.register_user_handler().handle(
        RegisterUser(email=f"prop{next(_emails)}@example.com", password="a long passphrase")
    )
    assert isinstance(user, Success), user
    connection = await container.create_connection_handler().handle(
        CreateConnection(
            user_id=user.value.id, provider=case.provider, label="bank", context=AuditContext()
        )
    )
    assert isinstance(connection, Success), connection
    return user.value.id, connection.value.id


async def run(
    container: Container, target: tuple[UUID, UUID], case: Case, data: bytes
) -> ImportReport:
    user_id, connection_id = target
    command = ImportStatement(
        user_id=user_id,
        connection_id=connection_id,
        data=data,
        filename="export",
        csv=case.options,
        context=AuditContext(actor_id=user_id),
    )
    result = await container.import_statement_handler().handle(command)
    assert isinstance(result, Success), result
    return result.value


async def stored(container: Container, user_id: UUID) -> dict[str, tuple[Any, ...]]:
    """The user's transactions by provider id: (date, amount, description, payee, memo,
    status)."""
    async with container.database.get_session() as session:
        rows = await session.execute(
            select(TransactionModel)
            .join(AccountModel, AccountModel.id == TransactionModel.account_id)
            .where(AccountModel.user_id == user_id)
        )
        return {
            t.provider_transaction_id: (
                t.posted_on,
                t.amount,
                t.description,
                t.payee,
                t.memo,
                t.status,
            )
            for t in rows.scalars().all()
        }


async def balance(container: Container, user_id: UUID) -> tuple[Decimal | None, Any]:
    async with container.database.get_session() as session:
        accounts = (
            await session.scalars(select(AccountModel).where(AccountModel.user_id == user_id))
        ).all()
    [account] = accounts  # one account per statement, however many files brought it
    return account.balance, account.balance_as_of
