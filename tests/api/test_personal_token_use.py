"""``Authorization: Bearer dtm_pat_...`` on the API: by scope on financial data, never on
identity or administration, stopped at once by revocation, expiry or the owner's end."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import jwt
import pytest

from dashtam.domain.users.value_objects import Role
from dashtam.infrastructure.persistence.models import AuditLogModel, PersonalTokenModel
from dashtam.infrastructure.security.personal_tokens import HmacPersonalTokenCodec
from tests.api.finance_support import ACCOUNTS_URL, TRANSACTIONS_URL, connect, imported, sign_up
from tests.api.personal_token_support import create_token, expire_now, listed
from tests.api.support import (
    ADMIN_USERS_URL,
    ME_URL,
    PASSWORD,
    PERSONAL_TOKENS_URL,
    SESSIONS_URL,
    FastContainer,
    assert_problem,
    assert_unauthorized,
    bearer,
    create_user,
    fetch,
    tokens_for,
)

DENIED_USE = AuditLogModel.action == "token.revoked_used"


async def test_a_read_token_reads_financial_data_and_its_reads_name_it(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    ada = await sign_up(client, "ada@example.com")
    connection = await connect(client, ada, "ofx-file")
    await imported(client, ada, connection, "checking_ofx1_sgml.ofx")
    created = await create_token(client, ada, scopes=("read",))
    script = bearer(created["token"])

    accounts = await client.get(ACCOUNTS_URL, headers=script)
    transactions = await client.get(TRANSACTIONS_URL, headers=script)

    assert accounts.status_code == 200, accounts.text
    assert accounts.json() == (await client.get(ACCOUNTS_URL, headers=ada)).json()
    assert len(transactions.json()["items"]) == 4
    (await container.read_audit_log.flush()).unwrap()
    reads = await fetch(container, AuditLogModel, AuditLogModel.action == "financial_data.read")
    by_token = [r for r in reads if r.details.get("pat_id") == created["id"]]
    assert len(by_token) == 2
    assert {str(r.actor_id) for r in by_token} == {str(r.actor_id) for r in reads}


async def test_a_token_without_the_scope_gets_403_naming_the_scope(
    client: httpx.AsyncClient,
) -> None:
    ada = await sign_up(client, "ada@example.com")
    connection = await connect(client, ada, "ofx-file")
    importer = bearer((await create_token(client, ada, scopes=("import",)))["token"])

    response = await client.get(ACCOUNTS_URL, headers=importer)

    assert_problem(response, status=403, code="insufficient_scope")
    assert response.headers["www-authenticate"] == (
        'Bearer realm="dashtam", error="insufficient_scope", '
        'error_description="insufficient_scope", scope="read"'
    )
    upload = await imported(client, importer, connection, "checking_ofx1_sgml.ofx")
    assert upload["transactions_new"] == 4
    delete = await client.delete(f"/api/v1/connections/{connection}", headers=importer)
    assert_problem(delete, status=403, code="insufficient_scope")
    assert 'scope="write"' in delete.headers["www-authenticate"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ME_URL),
        ("GET", SESSIONS_URL),
        ("DELETE", f"{SESSIONS_URL}/current"),
        ("GET", PERSONAL_TOKENS_URL),
        ("POST", PERSONAL_TOKENS_URL),
    ],
)
async def test_identity_routes_refuse_even_an_all_scopes_token(
    client: httpx.AsyncClient, container: FastContainer, method: str, path: str
) -> None:
    ada = await sign_up(client, "ada@example.com")
    token = bearer((await create_token(client, ada, scopes=("read", "import", "write")))["token"])
    body = {"name": "from a token", "scopes": ["read"]} if method == "POST" else None

    response = await client.request(method, path, headers=token, json=body)

    problem = assert_problem(response, status=403, code="personal_token_not_allowed")
    assert "personal access token" in problem["detail"]
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert len(await fetch(container, PersonalTokenModel)) == 1
    assert (await client.get(ME_URL, headers=ada)).status_code == 200  # the session is fine


async def test_an_administrators_token_is_refused_on_admin_routes(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "root@example.com", role=Role.ADMIN)
    root = bearer((await tokens_for(client, "root@example.com"))["access_token"])
    created = await create_token(client, root, scopes=("read", "write"))
    token = bearer(created["token"])

    response = await client.get(ADMIN_USERS_URL, headers=token)

    assert_problem(response, status=403, code="personal_token_not_allowed")
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert "root@example.com" not in response.text
    # On the trail like any refusal at the admin door, with the token's id (never its text).
    [denied] = await fetch(container, AuditLogModel, AuditLogModel.action == "admin.access_denied")
    assert (denied.outcome, denied.reason) == ("denied", "personal_token")
    assert denied.details["pat_id"] == created["id"]
    assert created["token"] not in repr(denied.details)
    assert (await client.get(ADMIN_USERS_URL, headers=root)).status_code == 200


async def test_a_revoked_token_gets_401_and_its_use_is_denied_on_the_trail(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    ada = await sign_up(client, "ada@example.com")
    created = await create_token(client, ada)
    script = bearer(created["token"])
    assert (await client.get(ACCOUNTS_URL, headers=script)).status_code == 200

    revoked = await client.delete(f"{PERSONAL_TOKENS_URL}/{created['id']}", headers=ada)
    assert revoked.status_code == 204

    for _ in range(3):
        response = await client.get(ACCOUNTS_URL, headers=script)
        assert_unauthorized(response, code="token_revoked")
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
    [denied] = await fetch(container, AuditLogModel, DENIED_USE)  # once a minute per token
    assert (denied.outcome, denied.reason) == ("denied", "token_revoked")
    assert (denied.resource_type, str(denied.resource_id)) == ("personal_token", created["id"])
    assert denied.trace_id is not None
    everything = await fetch(container, AuditLogModel)
    assert created["token"] not in str([(a.details, a.reason) for a in everything])


async def test_an_expired_token_gets_401_token_expired(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    ada = await sign_up(client, "ada@example.com")
    created = await create_token(client, ada, expires_in_days=1)
    await expire_now(container, created["id"])

    response = await client.get(ACCOUNTS_URL, headers=bearer(created["token"]))

    assert_unauthorized(response, code="token_expired")
    [denied] = await fetch(container, AuditLogModel, DENIED_USE)
    assert (denied.reason, str(denied.resource_id)) == ("token_expired", created["id"])


async def test_last_used_at_moves_on_each_use(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    ada = await sign_up(client, "ada@example.com")
    created = await create_token(client, ada)
    script = bearer(created["token"])
    usage = container.identity.token_usage

    seen: list[datetime] = []
    for _ in range(3):
        before = datetime.now().astimezone()
        assert (await client.get(ACCOUNTS_URL, headers=script)).status_code == 200
        (await usage.flush()).unwrap()
        [item] = await listed(client, ada)
        used = datetime.fromisoformat(item["last_used_at"])
        assert used >= before
        seen.append(used)

    assert seen == sorted(seen)
    assert len(set(seen)) == 3
    [row] = await fetch(container, PersonalTokenModel)
    assert row.version == 1  # a use is not an edit


@pytest.mark.parametrize(
    "token",
    [
        "dtm_pat_",
        "dtm_pat_" + "A" * 49,
        "dtm_pat_" + "a" * 100_000,
        "dtm_pat_ünïcödé",
        "dtm_pat_" + "\x00" * 49,
        "dtm_pat_tampered",
    ],
    ids=["prefix", "bad-checksum", "very-long", "non-ascii", "escapes", "tampered"],
)
async def test_unknown_or_garbage_personal_tokens_are_401_never_500(
    client: httpx.AsyncClient, container: FastContainer, token: str
) -> None:
    ada = await sign_up(client, "ada@example.com")
    real = (await create_token(client, ada))["token"]
    if token == "dtm_pat_tampered":
        token = real[:20] + ("B" if real[20] != "B" else "C") + real[21:]

    response = await client.get(ACCOUNTS_URL, headers={"authorization": f"Bearer {token}".encode()})

    assert_unauthorized(response, code="invalid_token")
    assert await fetch(container, AuditLogModel, DENIED_USE) == []


async def test_an_unknown_well_formed_token_is_invalid(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    ada = await sign_up(client, "ada@example.com")
    await create_token(client, ada)
    # Well formed, checksum right, but made under another key: no stored digest matches.
    foreign = HmacPersonalTokenCodec(secret_key="another-deployment-" + "k" * 40).issue().text

    response = await client.get(ACCOUNTS_URL, headers=bearer(foreign))

    assert_unauthorized(response, code="invalid_token")
    assert await fetch(container, AuditLogModel, DENIED_USE) == []


async def test_a_deactivated_owners_tokens_stop_at_once_and_stay_revoked(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    ada = await sign_up(client, "ada@example.com")
    created = await create_token(client, ada)
    await create_user(container, "root@example.com", role=Role.ADMIN)
    root = bearer((await tokens_for(client, "root@example.com"))["access_token"])
    ada_id = (await client.get(ME_URL, headers=ada)).json()["id"]

    off = await client.patch(f"{ADMIN_USERS_URL}/{ada_id}", json={"is_active": False}, headers=root)
    assert off.status_code == 200, off.text
    response = await client.get(ACCOUNTS_URL, headers=bearer(created["token"]))
    assert_unauthorized(response, code="token_revoked")

    on = await client.patch(f"{ADMIN_USERS_URL}/{ada_id}", json={"is_active": True}, headers=root)
    assert on.status_code == 200, on.text
    again = await client.get(ACCOUNTS_URL, headers=bearer(created["token"]))
    assert_unauthorized(again, code="token_revoked")
    [row] = await fetch(container, PersonalTokenModel)
    assert row.revoked_reason == "deactivated"


async def test_closing_the_account_revokes_its_tokens(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    ada = await sign_up(client, "ada@example.com")
    created = await create_token(client, ada)

    closed = await client.request("DELETE", ME_URL, json={"password": PASSWORD}, headers=ada)
    assert closed.status_code == 204, closed.text

    response = await client.get(ACCOUNTS_URL, headers=bearer(created["token"]))
    assert_unauthorized(response, code="token_revoked")
    [row] = await fetch(container, PersonalTokenModel)
    assert row.revoked_reason == "account_closed"


async def test_deleting_the_user_deletes_their_tokens(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    ada = await sign_up(client, "ada@example.com")
    created = await create_token(client, ada)
    await create_user(container, "root@example.com", role=Role.ADMIN)
    root = bearer((await tokens_for(client, "root@example.com"))["access_token"])
    ada_id = (await client.get(ME_URL, headers=ada)).json()["id"]

    gone = await client.delete(f"{ADMIN_USERS_URL}/{ada_id}", headers=root)
    assert gone.status_code == 204, gone.text

    response = await client.get(ACCOUNTS_URL, headers=bearer(created["token"]))
    assert_unauthorized(response, code="invalid_token")
    assert await fetch(container, PersonalTokenModel) == []


# --- the trace of a revoked session's access token -----------------------------------------


def _forged(access_token: str) -> str:
    head, payload, signature = access_token.split(".")
    return f"{head}.{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"


async def test_a_revoked_sessions_token_is_denied_on_the_trail_only_if_we_signed_it(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    tokens: dict[str, Any] = await tokens_for(client, "ada@example.com")
    access = tokens["access_token"]
    session_id = jwt.decode(access, options={"verify_signature": False})["sid"]
    assert (
        await client.delete(f"{SESSIONS_URL}/current", headers=bearer(access))
    ).status_code == 204

    for _ in range(5):
        assert_unauthorized(await client.get(ME_URL, headers=bearer(access)), code="token_revoked")
        forged = await client.get(ME_URL, headers=bearer(_forged(access)))
        assert_unauthorized(forged, code="invalid_token")

    [denied] = await fetch(container, AuditLogModel, DENIED_USE)
    assert (denied.outcome, denied.reason) == ("denied", "session_revoked")
    assert (denied.resource_type, str(denied.resource_id)) == ("session", session_id)
    assert denied.details == {"revoked_because": "logout"}
