"""Users API."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from dashtam.application.users.commands import ChangePassword, CloseAccount, RegisterUser
from dashtam.presentation.api.dependencies import (
    AuditContextDep,
    AuthenticatedContextDep,
    ContainerDep,
    PrincipalDep,
)
from dashtam.presentation.api.openapi import AUTHENTICATED, problems
from dashtam.presentation.api.responses import no_content, respond
from dashtam.presentation.api.users.schemas import (
    ChangePasswordRequest,
    CloseAccountRequest,
    RegisterUserRequest,
    UserResponse,
)

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserResponse,
    summary="Register a new user",
    responses=problems(409, 413, 422, 503),
)
async def register_user(
    body: RegisterUserRequest,
    request: Request,
    container: ContainerDep,
    context: AuditContextDep,
) -> UserResponse | JSONResponse:
    command = RegisterUser(email=body.email, password=body.password, context=context)
    result = await container.register_user_handler().handle(command)
    return respond(result, request, UserResponse.of)


@router.get(
    "/me",
    response_model=UserResponse,
    summary="The account I am logged in as",
    responses=problems(*AUTHENTICATED),
)
async def get_me(principal: PrincipalDep) -> UserResponse:
    return UserResponse.of(principal.user)


@router.patch(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change my password (ends my other sessions)",
    responses=problems(*AUTHENTICATED, 409, 413, 422, 429),
)
async def change_my_password(
    body: ChangePasswordRequest,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> Response:
    command = ChangePassword(
        user_id=principal.user.id,
        session_id=principal.session.id,
        current_password=body.current_password,
        new_password=body.new_password,
        expected_version=principal.user.version,
        context=context,
    )
    result = await container.change_password_handler().handle(command)
    return respond(result, request, no_content)


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Close my account (personal data removed, audit kept)",
    responses=problems(*AUTHENTICATED, 409, 422, 429),
)
async def close_my_account(
    body: CloseAccountRequest,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> Response:
    command = CloseAccount(
        user_id=principal.user.id,
        password=body.password,
        expected_version=principal.user.version,
        context=context,
    )
    result = await container.close_account_handler().handle(command)
    return respond(result, request, no_content)
