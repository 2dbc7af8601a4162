"""Removing a second factor: by its owner (password and code), by an administrator; MFA for
administrators; the password policy that depends on the factor."""

from __future__ import annotations

import httpx
from sqlalchemy import update

from dashtam.core.config import Settings
from dashtam.domain.users.value_objects import Role
from dashtam.infrastructure.persistence.models import AuditLogModel, TotpFactorModel, UserModel
from tests.api.mfa_support import (
    CONFIRM_URL,
    DISABLE_URL,
    MFA_LOGIN_URL,
    MFA_URL,
    code_at,
    enrol,
    ticket_for,
    user_with_totp,
)
from tests.api.support import (
    ADMIN_USERS_URL,
    ME_URL,
    PASSWORD,
    SESSIONS_URL,
    FastContainer,
    assert_problem,
    bearer,
    create_user,
    fetch,
    log_in,
    running,
    tokens_for,
)


async def test_disabling_needs_the_password_and_a_code(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    user = await user_with_totp(client, container, "ada@example.com")
    headers = bearer(user.access_token)
    wrong_password = await client.post(
        DISABLE_URL, json={"password": "not the password", "code": "123456"}, headers=headers
    )
    assert_problem(wrong_password, status=422, code="invalid_current_password")
    wrong_code = await client.post(
        DISABLE_URL, json={"password": PASSWORD, "code": "000000"}, headers=headers
    )
    assert_problem(wrong_code, status=422, code="invalid_mfa_code")
    no_proof = await client.post(DISABLE_URL, json={"password": PASSWORD}, headers=headers)
    assert_problem(no_proof, status=422, code="validation_error")

    done = await client.post(
        DISABLE_URL, json={"password": PASSWORD, "code": code_at(user.secret, 0)}, headers=headers
    )
    assert done.status_code == 200, done.text
    assert done.json()["log_out_other_sessions"] == "/api/v1/sessions/others"
    assert (await client.get(MFA_URL, headers=headers)).json()["totp_enabled"] is False
    assert await fetch(container, TotpFactorModel) == []
    assert (await log_in(client, user.email)).status_code == 201  # one step again
    rows = await fetch(container, AuditLogModel)
    failed = [row.reason for row in rows if row.action == "mfa.totp_disable_failed"]
    assert failed == ["wrong_password", "invalid_mfa_code"]
    assert "mfa.totp_disabled" in [row.action for row in rows]


async def test_a_recovery_code_can_remove_the_factor(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    user = await user_with_totp(client, container, "ada@example.com")
    response = await client.post(
        DISABLE_URL,
        json={"password": PASSWORD, "recovery_code": user.recovery_codes[0]},
        headers=bearer(user.access_token),
    )
    assert response.status_code == 200, response.text


async def test_with_a_factor_a_password_may_be_eight_characters_but_not_to_remove_it(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    user = await user_with_totp(client, container, "ada@example.com")
    headers = bearer(user.access_token)
    changed = await client.patch(
        f"{ME_URL}/password",
        json={"current_password": PASSWORD, "new_password": "tuba7Lim"},
        headers=headers,
    )
    assert changed.status_code == 204, changed.text
    refused = await client.post(
        DISABLE_URL, json={"password": "tuba7Lim", "code": code_at(user.secret, 0)}, headers=headers
    )
    body = assert_problem(refused, status=422, code="password_change_required")
    assert "15" in body["detail"]
    assert (await client.get(MFA_URL, headers=headers)).json()["totp_enabled"] is True


async def test_a_password_only_account_needs_fifteen_characters(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    response = await client.post(
        "/api/v1/users", json={"email": "bob@example.com", "password": "fourteen chars"}
    )
    body = assert_problem(response, status=422, code="password_too_short")
    assert "15" in body["detail"]
    assert "second factor" in body["detail"]


async def test_a_short_legacy_password_still_works_and_a_change_is_recommended(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    legacy = await container.password_hasher.hash("twelve chars")  # the old 12-character minimum
    async with container.database.get_session() as session:
        await session.execute(update(UserModel).values(password_hash=legacy))
        await session.commit()
    response = await log_in(client, "ada@example.com", "twelve chars")
    assert response.status_code == 201, response.text
    assert response.json()["password_change_recommended"] is True
    await create_user(container, "bob@example.com")
    assert (await tokens_for(client, "bob@example.com"))["password_change_recommended"] is False


async def test_an_administrator_resets_a_lost_factor(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    user = await user_with_totp(client, container, "ada@example.com")
    [ada] = await fetch(container, UserModel, UserModel.email == "ada@example.com")
    await create_user(container, "root@example.com", role=Role.ADMIN)
    admin = bearer((await tokens_for(client, "root@example.com"))["access_token"])

    refused = await client.delete(
        f"{ADMIN_USERS_URL}/{ada.id}/mfa", headers=bearer(user.access_token)
    )
    assert_problem(refused, status=403, code="forbidden")
    reset = await client.delete(f"{ADMIN_USERS_URL}/{ada.id}/mfa", headers=admin)
    assert reset.status_code == 204, reset.text
    again = await client.delete(f"{ADMIN_USERS_URL}/{ada.id}/mfa", headers=admin)
    assert_problem(again, status=409, code="mfa_not_enabled")
    assert (await log_in(client, user.email)).status_code == 201
    records = await fetch(container, AuditLogModel, AuditLogModel.action == "admin.mfa_reset")
    assert [(r.resource_id, r.outcome, r.reason) for r in records] == [
        (ada.id, "succeeded", None),
        (ada.id, "failed", "mfa_not_enabled"),
    ]


async def test_a_reset_ends_tickets_issued_before_it(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    user = await user_with_totp(client, container, "ada@example.com")
    ticket = await ticket_for(client, user.email)
    [ada] = await fetch(container, UserModel, UserModel.email == "ada@example.com")
    await create_user(container, "root@example.com", role=Role.ADMIN)
    admin = bearer((await tokens_for(client, "root@example.com"))["access_token"])
    assert (
        await client.delete(f"{ADMIN_USERS_URL}/{ada.id}/mfa", headers=admin)
    ).status_code == 204
    late = await client.post(
        MFA_LOGIN_URL, json={"mfa_ticket": ticket, "code": code_at(user.secret, 0)}
    )
    assert_problem(late, status=401, code="mfa_ticket_expired")


async def test_administrators_can_be_required_to_use_a_second_factor(settings: Settings) -> None:
    container = FastContainer(settings.model_copy(update={"require_mfa_for_admins": True}))
    async with running(container) as (_, client):
        await create_user(container, "root@example.com", role=Role.ADMIN)
        access = (await tokens_for(client, "root@example.com"))["access_token"]
        refused = await client.get(ADMIN_USERS_URL, headers=bearer(access))
        assert_problem(refused, status=403, code="mfa_required")
        [denied] = await fetch(
            container, AuditLogModel, AuditLogModel.action == "admin.access_denied"
        )
        assert (denied.outcome, denied.reason) == ("denied", "mfa_required")

        # Enrolling and confirming proves the factor in this very session.
        secret = (await enrol(client, access))["secret"]
        confirmed = await client.post(
            CONFIRM_URL, json={"code": code_at(secret, 0)}, headers=bearer(access)
        )
        assert confirmed.status_code == 200, confirmed.text
        assert (await client.get(ADMIN_USERS_URL, headers=bearer(access))).status_code == 200

        # A later log-in needs the second step before admin routes open to it.
        ticket = await ticket_for(client, "root@example.com")
        done = await client.post(
            MFA_LOGIN_URL, json={"mfa_ticket": ticket, "code": code_at(secret, 1)}
        )
        assert done.status_code == 201, done.text
        fresh = bearer(done.json()["access_token"])
        assert (await client.get(ADMIN_USERS_URL, headers=fresh)).status_code == 200
        sessions = (await client.get(SESSIONS_URL, headers=fresh)).json()["items"]
        assert all(session["second_factor"] for session in sessions)
