"""TOTP second factor through the API: enrol, confirm, two-step log-in, replay, recovery codes."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from dashtam.core.clock import utcnow
from dashtam.infrastructure.persistence.models import (
    AuditLogModel,
    MfaChallengeModel,
    RecoveryCodeModel,
    TotpFactorModel,
)
from tests.api.mfa_support import (
    CONFIRM_URL,
    MFA_LOGIN_URL,
    MFA_URL,
    RECOVERY_CODES_URL,
    TOTP_URL,
    away_from_a_step_boundary,
    code_at,
    enrol,
    ticket_for,
    user_with_totp,
)
from tests.api.support import (
    SESSIONS_URL,
    FastContainer,
    assert_problem,
    assert_unauthorized,
    bearer,
    create_user,
    fetch,
    tokens_for,
)

RECOVERY_CODE = re.compile(r"^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$")


async def actions(container: FastContainer) -> list[str]:
    return [row.action for row in await fetch(container, AuditLogModel)]


async def test_enrol_then_confirm_turns_the_factor_on_with_ten_recovery_codes(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    access = (await tokens_for(client, "ada@example.com"))["access_token"]

    response = await client.post(TOTP_URL, headers=bearer(access))
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    enrolment = response.json()
    secret = enrolment["secret"]
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)  # 160 bits, base32
    assert enrolment["otpauth_uri"].startswith("otpauth://totp/Dashtam:ada%40example.com?")
    assert f"secret={secret}" in enrolment["otpauth_uri"]
    assert "issuer=Dashtam" in enrolment["otpauth_uri"]
    assert enrolment["qr_code_svg"].startswith("<svg")
    assert (enrolment["algorithm"], enrolment["digits"], enrolment["period"]) == ("SHA1", 6, 30)
    status = (await client.get(MFA_URL, headers=bearer(access))).json()
    assert (status["totp_enabled"], status["totp_pending"]) == (False, True)

    await away_from_a_step_boundary()
    wrong = await client.post(CONFIRM_URL, json={"code": "000000"}, headers=bearer(access))
    assert_problem(wrong, status=422, code="invalid_mfa_code")
    confirmed = await client.post(
        CONFIRM_URL, json={"code": code_at(secret, 0)}, headers=bearer(access)
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.headers["cache-control"] == "no-store"
    body = confirmed.json()
    codes = body["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10
    assert all(RECOVERY_CODE.match(code) for code in codes)
    assert body["log_out_other_sessions"] == "/api/v1/sessions/others"
    assert body["other_sessions"] == 0

    status = (await client.get(MFA_URL, headers=bearer(access))).json()
    assert status["totp_enabled"] is True
    assert status["recovery_codes_left"] == 10
    again = await client.post(TOTP_URL, headers=bearer(access))
    assert_problem(again, status=409, code="mfa_already_enabled")

    # At rest: the secret sealed, the recovery codes hashed; neither on the audit trail.
    [factor] = await fetch(container, TotpFactorModel)
    assert secret not in factor.sealed_secret
    assert secret.lower() not in factor.sealed_secret
    stored = {row.code_hash for row in await fetch(container, RecoveryCodeModel)}
    assert not any(code.replace("-", "")[4:] in h for code in codes for h in stored)
    trail = repr([(row.details, row.reason) for row in await fetch(container, AuditLogModel)])
    assert secret not in trail
    assert not any(code in trail for code in codes)
    recorded = await actions(container)
    assert "mfa.totp_enrolment_started" in recorded
    assert "mfa.totp_enable_failed" in recorded
    assert "mfa.totp_enabled" in recorded


async def test_log_in_takes_two_steps_once_a_factor_is_on(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    user = await user_with_totp(client, container, "ada@example.com")
    ticket = await ticket_for(client, user.email)
    response = await client.post(
        MFA_LOGIN_URL, json={"mfa_ticket": ticket, "code": code_at(user.secret, 0)}
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert tokens["token_type"] == "bearer"
    assert tokens["password_change_recommended"] is False
    sessions = (await client.get(SESSIONS_URL, headers=bearer(tokens["access_token"]))).json()
    current = next(s for s in sessions["items"] if s["current"])
    assert current["second_factor"] is True
    [login] = [
        row
        for row in await fetch(container, AuditLogModel)
        if row.action == "user.login_succeeded" and row.details.get("second_factor")
    ]
    assert login.details["second_factor"] == "totp"
    assert "user.login_second_factor_required" in await actions(container)


async def test_a_code_cannot_be_replayed_within_its_window(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    user = await user_with_totp(client, container, "ada@example.com")  # used step -1
    replayed = await client.post(
        MFA_LOGIN_URL,
        json={"mfa_ticket": await ticket_for(client, user.email), "code": code_at(user.secret, -1)},
    )
    assert_unauthorized(replayed, code="mfa_code_reused")
    current = code_at(user.secret, 0)
    ok = await client.post(
        MFA_LOGIN_URL, json={"mfa_ticket": await ticket_for(client, user.email), "code": current}
    )
    assert ok.status_code == 201, ok.text
    again = await client.post(
        MFA_LOGIN_URL, json={"mfa_ticket": await ticket_for(client, user.email), "code": current}
    )
    assert_unauthorized(again, code="mfa_code_reused")
    failures = [
        row.reason
        for row in await fetch(container, AuditLogModel)
        if row.action == "mfa.challenge_failed"
    ]
    assert failures == ["code_replayed", "code_replayed"]


async def test_tickets_expire_are_used_once_and_cannot_be_made_up(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    user = await user_with_totp(client, container, "ada@example.com")
    expired = await ticket_for(client, user.email)
    async with container.database.get_session() as session:
        await session.execute(
            update(MfaChallengeModel).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    response = await client.post(
        MFA_LOGIN_URL, json={"mfa_ticket": expired, "code": code_at(user.secret, 0)}
    )
    assert_unauthorized(response, code="mfa_ticket_expired")

    ticket = await ticket_for(client, user.email)
    done = await client.post(
        MFA_LOGIN_URL, json={"mfa_ticket": ticket, "code": code_at(user.secret, 0)}
    )
    assert done.status_code == 201, done.text
    reused = await client.post(
        MFA_LOGIN_URL, json={"mfa_ticket": ticket, "code": code_at(user.secret, 1)}
    )
    assert_unauthorized(reused, code="mfa_ticket_expired")

    made_up = await client.post(MFA_LOGIN_URL, json={"mfa_ticket": "x" * 43, "code": "123456"})
    assert_unauthorized(made_up, code="invalid_mfa_ticket")
    both = await client.post(
        MFA_LOGIN_URL, json={"mfa_ticket": ticket, "code": "123456", "recovery_code": "abcd"}
    )
    assert_problem(both, status=422, code="validation_error")


async def test_a_recovery_code_works_once(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    user = await user_with_totp(client, container, "ada@example.com")
    code = user.recovery_codes[3]
    typed = code.upper().replace("-", " ")  # read off paper: case and separators forgiven
    first = await client.post(
        MFA_LOGIN_URL,
        json={"mfa_ticket": await ticket_for(client, user.email), "recovery_code": typed},
    )
    assert first.status_code == 201, first.text
    access = first.json()["access_token"]
    assert (await client.get(MFA_URL, headers=bearer(access))).json()["recovery_codes_left"] == 9

    second = await client.post(
        MFA_LOGIN_URL,
        json={"mfa_ticket": await ticket_for(client, user.email), "recovery_code": code},
    )
    assert_unauthorized(second, code="recovery_code_used")
    wrong = await client.post(
        MFA_LOGIN_URL,
        json={
            "mfa_ticket": await ticket_for(client, user.email),
            "recovery_code": "zzzz-zzzz-zzzz-zzzz",
        },
    )
    assert_unauthorized(wrong, code="invalid_mfa_code")
    rows = await fetch(container, AuditLogModel)
    [used] = [row for row in rows if row.action == "mfa.recovery_code_used"]
    assert used.details["recovery_codes_left"] == 9
    reasons = [row.reason for row in rows if row.action == "mfa.challenge_failed"]
    assert reasons == ["recovery_code_reused", "wrong_code"]


async def test_wrong_codes_count_toward_the_log_in_throttle(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    user = await user_with_totp(client, container, "ada@example.com")
    ticket = await ticket_for(client, user.email)
    for _ in range(5):
        wrong = await client.post(MFA_LOGIN_URL, json={"mfa_ticket": ticket, "code": "999999"})
        assert_unauthorized(wrong, code="invalid_mfa_code")
    throttled = await client.post(
        MFA_LOGIN_URL, json={"mfa_ticket": ticket, "code": code_at(user.secret, 0)}
    )
    body = assert_problem(throttled, status=429, code="rate_limited")
    assert int(throttled.headers["retry-after"]) > 0, body
    # The same counter as passwords: the password step is throttled too.
    password = await client.post(
        SESSIONS_URL, json={"email": user.email, "password": "a long passphrase"}
    )
    assert_problem(password, status=429, code="rate_limited")


async def test_new_recovery_codes_replace_the_old_ones(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    user = await user_with_totp(client, container, "ada@example.com")
    wrong = await client.post(
        RECOVERY_CODES_URL, json={"code": "000000"}, headers=bearer(user.access_token)
    )
    assert_problem(wrong, status=422, code="invalid_mfa_code")
    fresh = await client.post(
        RECOVERY_CODES_URL,
        json={"code": code_at(user.secret, 0)},
        headers=bearer(user.access_token),
    )
    assert fresh.status_code == 200, fresh.text
    new_codes = fresh.json()["recovery_codes"]
    assert len(new_codes) == 10
    assert not set(new_codes) & set(user.recovery_codes)
    old = await client.post(
        MFA_LOGIN_URL,
        json={
            "mfa_ticket": await ticket_for(client, user.email),
            "recovery_code": user.recovery_codes[0],
        },
    )
    assert_unauthorized(old, code="invalid_mfa_code")
    assert "mfa.recovery_codes_regenerated" in await actions(container)


async def test_enrolling_on_an_old_log_in_asks_for_the_password_again(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    from dashtam.infrastructure.persistence.models import AuthSessionModel

    await create_user(container, "ada@example.com")
    access = (await tokens_for(client, "ada@example.com"))["access_token"]
    async with container.database.get_session() as session:
        await session.execute(
            update(AuthSessionModel).values(created_at=utcnow() - timedelta(minutes=20))
        )
        await session.commit()
    refused = await client.post(TOTP_URL, headers=bearer(access))
    assert_problem(refused, status=403, code="reauthentication_required")
    wrong = await client.post(
        TOTP_URL, json={"password": "not my password!"}, headers=bearer(access)
    )
    assert_problem(wrong, status=422, code="invalid_current_password")
    ok = await client.post(TOTP_URL, json={"password": "a long passphrase"}, headers=bearer(access))
    assert ok.status_code == 201, ok.text
    # A second enrolment before confirming replaces the first secret.
    renewed: dict[str, Any] = await enrol_with_password(client, access)
    assert renewed["secret"] != ok.json()["secret"]
    assert len(await fetch(container, TotpFactorModel)) == 1


async def enrol_with_password(client: httpx.AsyncClient, access: str) -> dict[str, Any]:
    response = await client.post(
        TOTP_URL, json={"password": "a long passphrase"}, headers=bearer(access)
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_confirming_without_an_enrolment_is_a_conflict(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    access = (await tokens_for(client, "ada@example.com"))["access_token"]
    response = await client.post(CONFIRM_URL, json={"code": "123456"}, headers=bearer(access))
    assert_problem(response, status=409, code="mfa_not_pending")
    assert (await enrol(client, access))["secret"]
