"""Users API."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from dashtam.application.users.commands import RegisterUser
from dashtam.core.result import Failure, Success
from dashtam.presentation.api.dependencies import AuditContextDep, ContainerDep
from dashtam.presentation.api.problems import error_response
from dashtam.presentation.api.users.schemas import RegisterUserRequest, UserResponse

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserResponse,
    summary="Register a new user",
    responses={409: {"description": "email taken"}, 422: {"description": "invalid input"}},
)
async def register_user(
    body: RegisterUserRequest,
    request: Request,
    container: ContainerDep,
    context: AuditContextDep,
) -> UserResponse | JSONResponse:
    command = RegisterUser(email=body.email, password=body.password, context=context)
    match await container.register_user_handler().handle(command):
        case Success(user):
            return UserResponse.of(user)
        case Failure(error):
            return error_response(error, request)
