"""User administration (role ``admin`` only; refusals are audited)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from dashtam.application.admin.commands import MAX_PAGE_SIZE, ListUsers, UpdateUser
from dashtam.application.auth.mfa_commands import ResetMfa
from dashtam.application.users.commands import AdminDeleteUser
from dashtam.core.errors import ValidationError
from dashtam.domain.users.repository import UserFilter
from dashtam.domain.users.value_objects import Role
from dashtam.presentation.api.admin.schemas import UpdateUserRequest, UserPage
from dashtam.presentation.api.cursors import decode_cursor_bytes, encode_cursor_bytes
from dashtam.presentation.api.dependencies import AdminDep, AuthenticatedContextDep, ContainerDep
from dashtam.presentation.api.openapi import ADMIN, problems
from dashtam.presentation.api.problems import error_response
from dashtam.presentation.api.responses import no_content, respond
from dashtam.presentation.api.users.schemas import UserResponse
from dashtam.presentation.api.validators import NO_CONTROL_CHARACTERS_SCHEMA, NoControlCharacters

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


def encode_cursor(user_id: UUID) -> str:
    return encode_cursor_bytes(user_id.bytes)


def decode_cursor(cursor: str) -> UUID | None:
    raw = decode_cursor_bytes(cursor)
    if raw is None or len(raw) != 16:
        return None
    return UUID(bytes=raw)


@router.get(
    "/users", response_model=UserPage, summary="Find users", responses=problems(*ADMIN, 422)
)
async def list_users(
    request: Request,
    admin: AdminDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
    email: Annotated[
        str | None,
        NoControlCharacters,
        Query(
            max_length=254,
            description="Email fragment",
            json_schema_extra=NO_CONTROL_CHARACTERS_SCHEMA,
        ),
    ] = None,
    role: Role | None = None,
    active: bool | None = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> UserPage | JSONResponse:
    after = decode_cursor(cursor) if cursor else None
    if cursor and after is None:
        invalid = ValidationError("the cursor is not valid", details={"field": "cursor"})
        return error_response(invalid, request)
    command = ListUsers(
        criteria=UserFilter(email_contains=email, role=role, is_active=active),
        after=after,
        limit=limit,
        context=context,
    )
    result = await container.list_users_handler().handle(command)
    return respond(
        result,
        request,
        lambda users: UserPage(
            items=[UserResponse.of(u) for u in users],
            # A full page may have a next one; a short page is the last.
            next_cursor=encode_cursor(users[-1].id) if len(users) == limit else None,
        ),
    )


@router.patch(
    "/users/{user_id}",
    response_model=UserResponse,
    summary="Change a user's role or active flag",
    responses=problems(*ADMIN, 404, 409, 413, 422),
)
async def update_user(
    user_id: UUID,
    body: UpdateUserRequest,
    request: Request,
    admin: AdminDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> UserResponse | JSONResponse:
    command = UpdateUser(user_id=user_id, role=body.role, is_active=body.is_active, context=context)
    result = await container.update_user_handler().handle(command)
    return respond(result, request, UserResponse.of)


@router.delete(
    "/users/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a user",
    responses=problems(*ADMIN, 404, 409, 422),
)
async def delete_user(
    user_id: UUID,
    request: Request,
    admin: AdminDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> Response:
    command = AdminDeleteUser(user_id=user_id, context=context)
    result = await container.admin_delete_user_handler().handle(command)
    return respond(result, request, no_content)


@router.delete(
    "/users/{user_id}/mfa",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Reset a user's second factor (a lost device); audited",
    responses=problems(*ADMIN, 404, 409, 422),
)
async def reset_user_mfa(
    user_id: UUID,
    request: Request,
    admin: AdminDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> Response:
    command = ResetMfa(user_id=user_id, context=context)
    result = await container.reset_mfa_handler().handle(command)
    return respond(result, request, no_content)
