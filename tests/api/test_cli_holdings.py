"""``dashtam holdings --user EMAIL`` against a real database."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest

from dashtam.application.finance.commands import CreateConnection
from dashtam.core.config import Settings
from dashtam.domain.audit import AuditContext
from dashtam.domain.imports.investments import ParsedSecurity
from dashtam.domain.investments.entities import SecurityKind
from dashtam.infrastructure.persistence.models import AuditLogModel
from tests.api.support import FastContainer, create_user, dashtam, fetch
from tests.unit.application.investment_support import (
    FEBRUARY,
    FUND,
    brokerage_account,
    seed_statements,
)


async def seed(container: FastContainer, user_id: UUID) -> None:
    command = CreateConnection(
        user_id=user_id, provider="ofx-file", label="broker", context=AuditContext()
    )
    connection = (await container.create_connection_handler().handle(command)).unwrap()
    async with container.unit_of_work() as uow:
        account = await brokerage_account(uow, user_id, connection.id)
        await seed_statements(uow, account)
        (await uow.commit()).unwrap()


def row_of(out: str, symbol: str) -> list[str]:
    """The cells of the table row of ``symbol`` (rich draws cells between box characters)."""
    [line] = [line for line in out.splitlines() if f" {symbol} " in line]
    return [cell.strip() for cell in line.replace("\u2502", "|").split("|")[1:-1]]


@pytest.mark.usefixtures("fresh_settings")
async def test_holdings_prints_each_position_and_the_totals(settings: Settings) -> None:
    container = FastContainer(settings)
    try:
        ada = await create_user(container, "ada@example.com")
        await seed(container, ada)
        code, out, err = await dashtam(
            settings.database_url, "holdings", "--user", "Ada@Example.com"
        )
        assert (code, err) == (0, ""), (out, err)
        assert row_of(out, "AAPL") == [
            "Brokerage BRK-0001",
            "AAPL",
            "Apple Inc.",
            "12",
            "160",
            "1920.00",
            "USD",
            "420.00",
        ]
        # No ticker: the file's identifier stands for it; no cost, no gain.
        assert row_of(out, "922908728") == [
            "Brokerage BRK-0001",
            "922908728",
            "Total Stock Market Index",
            "0.0000000001",
            "110",
            "0.00",
            "USD",
            "",
        ]
        assert out.rstrip().splitlines()[-1] == (
            "total USD: 1920.00 (gain 420.00 where the cost is known)"
        )
        [read] = await fetch(
            container, AuditLogModel, AuditLogModel.action == "financial_data.read"
        )
        assert (read.actor_id, read.user_agent, read.details["view"]) == (
            ada,
            "dashtam-cli",
            "portfolio",
        )
    finally:
        await container.aclose()


@pytest.mark.usefixtures("fresh_settings")
async def test_names_from_files_are_printed_as_they_are_not_as_markup(settings: Settings) -> None:
    container = FastContainer(settings)
    odd = "Index [/] fund [bold]2x[/bold] :smile:"
    try:
        ada = await create_user(container, "ada@example.com")
        await seed(container, ada)
        renamed = ParsedSecurity(security_id=FUND, name=odd, kind=SecurityKind.MUTUAL_FUND)
        async with container.unit_of_work() as uow:
            (await uow.securities.upsert([renamed], as_of=FEBRUARY + timedelta(days=1))).unwrap()
            (await uow.commit()).unwrap()
        code, out, err = await dashtam(
            settings.database_url, "holdings", "--user", "ada@example.com"
        )
        assert (code, err) == (0, ""), (out, err)
        assert row_of(out, "922908728")[2] == odd
    finally:
        await container.aclose()


@pytest.mark.usefixtures("fresh_settings")
async def test_a_user_without_holdings_gets_one_plain_line(settings: Settings) -> None:
    container = FastContainer(settings)
    try:
        await create_user(container, "ada@example.com")
        assert await dashtam(settings.database_url, "holdings", "--user", "ada@example.com") == (
            0,
            "ada@example.com has no holdings\n",
            "",
        )
        code, out, err = await dashtam(
            settings.database_url, "holdings", "--user", "nobody@example.com"
        )
        assert (code, out, err) == (1, "", "error: no active user nobody@example.com\n")
    finally:
        await container.aclose()


@pytest.mark.usefixtures("fresh_settings")
async def test_a_missing_database_is_one_error_line(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    code, out, err = await dashtam(
        f"sqlite+aiosqlite:///{missing}", "holdings", "--user", "ada@example.com"
    )
    assert (code, out) == (1, "")
    assert err.startswith(f"error: no database at {missing}")
    assert len(err.splitlines()) == 1
    assert not missing.exists()
