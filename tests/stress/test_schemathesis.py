"""Schemathesis ``--checks all`` against a real ``dashtam serve``, logged in as an admin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.stress.processes import Stack, dashtam
from tests.stress.report import NOTES

pytestmark = pytest.mark.stress

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
EMAILS = [f"fuzz-admin-{n}@example.com" for n in range(3)]
PASSWORD = "a long fuzzing passphrase"
MAX_SECONDS = 150


def _admin(stack: Stack, email: str) -> str:
    """A new administrator's id."""
    created = dashtam(
        stack.env(),
        "users",
        "create-admin",
        "--email",
        email,
        "--password-stdin",
        input_text=PASSWORD,
    )
    assert created.returncode == 0, created.stderr
    credentials = {"email": email, "password": PASSWORD}
    logged_in = httpx.post(f"{stack.base_url}/api/v1/sessions", json=credentials, timeout=30)
    assert logged_in.status_code == 201, logged_in.text
    bearer = {"authorization": f"Bearer {logged_in.json()['access_token']}"}
    me = httpx.get(f"{stack.base_url}/api/v1/users/me", headers=bearer, timeout=30)
    ident: str = me.json()["id"]
    return ident


def test_schemathesis_finds_no_failure(stack: Stack) -> None:
    ids = [_admin(stack, email) for email in EMAILS]
    report = stack.workdir / "schemathesis"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SCHEMATHESIS_HOOKS": "tests.stress.schemathesis_hooks",
        "STRESS_BASE_URL": stack.base_url,
        "STRESS_EMAILS": ",".join(EMAILS),
        "STRESS_PASSWORD": PASSWORD,
        "STRESS_ADMIN_IDS": ",".join(ids),
    }
    command = [
        SCHEMATHESIS,
        "--config-file",
        str(Path(__file__).with_name("schemathesis.toml")),
        "run",
        f"{stack.base_url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        "10",
        "--workers",
        "2",
        "--seed",
        "7",
        "--request-timeout",
        "30",
        "--max-time",
        str(MAX_SECONDS - 30),
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(report),
    ]
    done = subprocess.run(
        command,
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=MAX_SECONDS,
        check=False,
    )
    (stack.workdir / "schemathesis.log").write_text(done.stdout + done.stderr)
    last = [line for line in done.stdout.splitlines() if line.strip()][-3:]
    NOTES.append(f"schemathesis on {stack.backend}: exit {done.returncode}: {' / '.join(last)}")
    assert done.returncode == 0, done.stdout[-6000:]
