"""Structured logging: JSON in production, trace id from the contextvar, secrets redacted."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from dashtam.core.tracing import bound_trace_id
from dashtam.infrastructure.logging.setup import configure_logging, get_logger
from dashtam.infrastructure.persistence.database import Database


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_carry_the_trace_id_and_redact_secrets(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(level="DEBUG", log_format="json")
    with bound_trace_id("trace-123"):
        get_logger("test").info("user_registered", user_id="u1", password="hunter2hunter2")
    get_logger("test").info("outside_request")

    lines = _json_lines(capsys.readouterr().err)
    inside = next(line for line in lines if line["event"] == "user_registered")
    outside = next(line for line in lines if line["event"] == "outside_request")
    assert inside["trace_id"] == "trace-123"
    assert inside["password"] == "[redacted]"
    assert inside["level"] == "info"
    assert "timestamp" in inside
    assert "trace_id" not in outside


@pytest.mark.usefixtures("restore_logging")
def test_standard_library_loggers_are_rendered_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="INFO", log_format="json")
    with bound_trace_id("trace-std"):
        logging.getLogger("uvicorn.error").info("server started")
    lines = _json_lines(capsys.readouterr().err)
    assert any(
        line["event"] == "server started" and line["trace_id"] == "trace-std" for line in lines
    )


@pytest.mark.usefixtures("restore_logging")
async def test_database_logs_mask_credentials_and_trace_sessions(
    capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    configure_logging(level="DEBUG", log_format="json")
    db = Database(database_url.replace("postgres@", "postgres:topsecret@"))
    try:
        with bound_trace_id("trace-db"):
            async with db.get_session():
                pass
    finally:
        await db.close()
    output = capsys.readouterr().err
    assert "topsecret" not in output
    lines = _json_lines(output)
    assert any(line["event"] == "database_configured" for line in lines)
    assert any(
        line["event"] == "db_session_committed" and line["trace_id"] == "trace-db" for line in lines
    )


@pytest.mark.usefixtures("restore_logging")
def test_live_provider_secrets_are_redacted_too(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="DEBUG", log_format="json")
    secret_url = "https://user:s3cret@bridge.example/simplefin"
    get_logger("test").info(
        "claimed", setup_token="aHR0cHM6Ly9leGFtcGxl", access_url=secret_url, claim_url=secret_url
    )
    [line] = [line for line in _json_lines(capsys.readouterr().err) if line["event"] == "claimed"]
    assert {line[key] for key in ("setup_token", "access_url", "claim_url")} == {"[redacted]"}
