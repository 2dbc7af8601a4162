"""``dashtam holdings --user EMAIL``: a user's latest positions as a table, with totals.

The same audited read as the API's; money and quantities printed exactly as stored.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from dashtam.application.investments.queries import Portfolio
from dashtam.bootstrap import Container
from dashtam.core.config import get_settings
from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditContext
from dashtam.domain.investments.entities import Holding
from dashtam.presentation.cli.preflight import fail, require_current_schema
from dashtam.presentation.decimals import amount_text, quantity_text

# Off a terminal (a pipe, a test) rich would assume 80 columns and wrap security names.
_PIPE_WIDTH = 160


def holdings(
    user: Annotated[str, typer.Option("--user", help="Email of the account owner.")],
) -> None:
    """Print a user's latest positions in every account, with totals per currency."""
    settings = get_settings()
    require_current_schema(settings)
    container = Container(settings)

    async def _run() -> Result[tuple[str, Portfolio], Error]:
        try:
            return await _read(container, user)
        finally:
            await container.aclose()

    match asyncio.run(_run()):
        case Success((email, portfolio)) if not portfolio.holdings:
            typer.echo(f"{email} has no holdings")
        case Success((_, portfolio)):
            _print(portfolio)
        case Failure(error):
            fail(error.message)


async def _read(container: Container, email: str) -> Result[tuple[str, Portfolio], Error]:
    owner = await container.find_active_user().handle(email)
    if isinstance(owner, Failure):
        return owner
    context = AuditContext(actor_id=owner.value.id, user_agent="dashtam-cli")
    found = await container.investment_queries().portfolio(owner.value.id, context)
    return found.map(lambda portfolio: (str(owner.value.email), portfolio))


def _print(portfolio: Portfolio) -> None:
    names = {account.id: account.name for account in portfolio.accounts}
    table = Table(show_lines=False)
    for header in ("Account", "Symbol", "Name"):
        table.add_column(header)
    for header in ("Units", "Price", "Value", "Currency", "Gain"):
        table.add_column(header, justify="left" if header == "Currency" else "right")
    rows = sorted(
        portfolio.holdings,
        key=lambda h: (names.get(h.account_id, ""), h.security.name.casefold(), h.currency),
    )
    for holding in rows:
        cells = (
            names.get(holding.account_id, str(holding.account_id)),
            holding.security.ticker or holding.security.unique_id,
            holding.security.name,
            quantity_text(holding.units),
            quantity_text(holding.unit_price),
            amount_text(holding.market_value),
            holding.currency,
            _gain(holding),
        )
        # Text, not str: names come from statement files, and rich would read "[...]" in
        # them as markup (or fail on it).
        table.add_row(*(Text(cell) for cell in cells))
    console = Console(width=None if sys.stdout.isatty() else _PIPE_WIDTH)
    console.print(table)
    for line in totals_lines(portfolio.holdings):
        console.print(Text(line))


def _gain(holding: Holding) -> str:
    gain = holding.unrealised_gain
    return amount_text(gain) if gain is not None else ""


def totals_lines(holdings: Sequence[Holding]) -> list[str]:
    """One line per currency: the positions' value, and the gain of those with a known cost."""
    values: dict[str, Decimal] = {}
    gains: dict[str, Decimal] = {}
    for holding in holdings:
        values[holding.currency] = values.get(holding.currency, Decimal(0)) + holding.market_value
        gain = holding.unrealised_gain
        if gain is not None:
            gains[holding.currency] = gains.get(holding.currency, Decimal(0)) + gain
    lines = []
    for currency, value in sorted(values.items()):
        line = f"total {currency}: {amount_text(value)}"
        if currency in gains:
            line += f" (gain {amount_text(gains[currency])} where the cost is known)"
        lines.append(line)
    return lines
