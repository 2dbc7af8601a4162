"""``dashtam sync`` and ``dashtam worker --once`` against a bridge on loopback."""

from __future__ import annotations

import asyncio

import httpx
from typer.testing import CliRunner, Result

from dashtam.core.config import get_settings
from dashtam.presentation.cli.main import app
from tests.api.finance_support import sign_up
from tests.api.live.support import connect_bridge
from tests.simplefin_bridge import SimplefinBridge


def _cli(database_url: str, *args: str) -> Result:
    get_settings.cache_clear()
    env = {
        "DATABASE_URL": database_url,
        "DASHTAM_ENV": "test",
        "DASHTAM_SYNC_ALLOW_LOOPBACK_HTTP": "true",
        "DASHTAM_SYNC_TIMEOUT": "2",
        "LOG_LEVEL": "WARNING",
    }
    try:
        return CliRunner().invoke(app, list(args), env=env)
    finally:
        get_settings.cache_clear()


async def test_sync_all_and_one_connection_print_one_line_each(
    live_client: httpx.AsyncClient, bridge: SimplefinBridge, database_url: str
) -> None:
    headers = await sign_up(live_client, "ana@example.com")
    connection_id = str((await connect_bridge(live_client, headers, bridge))["id"])
    everything = await asyncio.to_thread(_cli, database_url, "sync", "--all")
    assert everything.exit_code == 0, everything.output
    assert everything.stdout.splitlines() == [
        f"{connection_id}: active, 2 account(s), 4 new, 0 updated, 0 removed"
    ]
    bridge.behaviour.errors = ["Please reauthenticate"]
    one = await asyncio.to_thread(_cli, database_url, "sync", "--connection", connection_id)
    assert one.exit_code == 0, one.output
    assert one.stdout.splitlines()[1:] == ["  the bridge says: Please reauthenticate"]
    bridge.behaviour.errors = []
    bridge.behaviour.status = 500
    failed = await asyncio.to_thread(_cli, database_url, "sync", "--connection", connection_id)
    assert failed.exit_code == 1
    assert f"{connection_id}: failed (bridge_unavailable)" in failed.output
    assert "Traceback" not in failed.output


async def test_worker_once_runs_what_is_due(
    live_client: httpx.AsyncClient, bridge: SimplefinBridge, database_url: str
) -> None:
    headers = await sign_up(live_client, "ana@example.com")
    await connect_bridge(live_client, headers, bridge)
    ran = await asyncio.to_thread(_cli, database_url, "worker", "--once")
    assert ran.exit_code == 0, ran.output
    assert ran.stdout.strip().endswith("synced 1 connection(s)")
    again = await asyncio.to_thread(_cli, database_url, "worker", "--once")
    assert again.stdout.strip().endswith("synced 0 connection(s)")


async def test_sync_needs_one_target_and_a_real_id(database_url: str) -> None:
    for args in (("sync",), ("sync", "--all", "--connection", "x"), ("sync", "--connection", "x")):
        result = await asyncio.to_thread(_cli, database_url, *args)
        assert result.exit_code == 1, args
        assert result.output.startswith("error: "), result.output
        assert len(result.output.strip().splitlines()) == 1
