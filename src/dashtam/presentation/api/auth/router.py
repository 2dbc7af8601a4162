"""Log in, refresh, list and end sessions."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from dashtam.application.auth.commands import (
    CompleteMfaLogIn,
    LogIn,
    LoginOutcome,
    MfaRequired,
    RefreshTokens,
    RevokeOtherSessions,
    RevokeSession,
)
from dashtam.presentation.api.auth.schemas import (
    LoginRequest,
    LoginResponse,
    MfaLoginRequest,
    MfaRequiredResponse,
    OtherSessionsRevoked,
    RefreshRequest,
    SessionList,
    SessionResponse,
    TokenResponse,
)
from dashtam.presentation.api.dependencies import (
    AuditContextDep,
    AuthenticatedContextDep,
    ContainerDep,
    PrincipalDep,
)
from dashtam.presentation.api.openapi import AUTHENTICATED, problems
from dashtam.presentation.api.responses import no_content, respond, with_headers

router = APIRouter(prefix="/api/v1", tags=["sessions"])

# RFC 6749 5.1: responses carrying tokens must not be cached.
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.post(
    "/sessions",
    response_model=LoginResponse,
    status_code=status.HTTP_201_CREATED,
    summary="Log in with email and password",
    description="201 with tokens; 200 with an MFA ticket when the account has a second "
    "factor (complete it with POST /api/v1/sessions/mfa).",
    responses={
        200: {"model": MfaRequiredResponse, "description": "A second factor is required"},
        **problems(401, 409, 413, 422, 429, 503),
    },
)
async def log_in(
    body: LoginRequest,
    request: Request,
    response: Response,
    container: ContainerDep,
    context: AuditContextDep,
) -> LoginResponse | JSONResponse:
    command = LogIn(
        email=body.email, password=body.password, remember_me=body.remember_me, context=context
    )
    result = await container.login_handler().handle(command)
    return respond(result, request, with_headers(response, _NO_STORE, _login_response))


def _login_response(outcome: LoginOutcome) -> LoginResponse | JSONResponse:
    if isinstance(outcome, MfaRequired):
        # No session yet: 200, not 201; the ticket is a credential, never cached either.
        body = MfaRequiredResponse.of(outcome).model_dump(mode="json")
        return JSONResponse(body, status_code=status.HTTP_200_OK, headers=_NO_STORE)
    return LoginResponse.of(outcome)


@router.post(
    "/sessions/mfa",
    response_model=LoginResponse,
    status_code=status.HTTP_201_CREATED,
    summary="Complete a log-in with a TOTP code or a recovery code",
    responses=problems(401, 409, 413, 422, 429, 503),
)
async def complete_mfa_log_in(
    body: MfaLoginRequest,
    request: Request,
    response: Response,
    container: ContainerDep,
    context: AuditContextDep,
) -> LoginResponse | JSONResponse:
    command = CompleteMfaLogIn(
        mfa_ticket=body.mfa_ticket,
        code=body.code,
        recovery_code=body.recovery_code,
        context=context,
    )
    result = await container.complete_mfa_login_handler().handle(command)
    return respond(result, request, with_headers(response, _NO_STORE, LoginResponse.of))


@router.post(
    "/tokens",
    response_model=TokenResponse,
    summary="Exchange a refresh token for new tokens (the old one stops working)",
    responses=problems(401, 409, 413, 422, 503),
)
async def refresh_tokens(
    body: RefreshRequest,
    request: Request,
    response: Response,
    container: ContainerDep,
    context: AuditContextDep,
) -> TokenResponse | JSONResponse:
    command = RefreshTokens(refresh_token=body.refresh_token, context=context)
    result = await container.refresh_tokens_handler().handle(command)
    return respond(result, request, with_headers(response, _NO_STORE, TokenResponse.of))


@router.get(
    "/sessions",
    response_model=SessionList,
    summary="My active sessions",
    responses=problems(*AUTHENTICATED),
)
async def list_sessions(
    request: Request, principal: PrincipalDep, container: ContainerDep
) -> SessionList | JSONResponse:
    result = await container.list_sessions_handler().handle(principal)
    return respond(
        result,
        request,
        lambda sessions: SessionList(
            items=[SessionResponse.of(s, current_id=principal.session.id) for s in sessions]
        ),
    )


@router.delete(
    "/sessions/current",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Log out",
    responses=problems(*AUTHENTICATED, 409),
)
async def log_out(
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> Response:
    return await _revoke(request, principal.session.id, principal, container, context)


@router.delete(
    "/sessions/others",
    response_model=OtherSessionsRevoked,
    summary="Log out everywhere else: end all my sessions but this one",
    responses=problems(*AUTHENTICATED, 409),
)
async def log_out_other_sessions(
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> OtherSessionsRevoked | JSONResponse:
    command = RevokeOtherSessions(principal=principal, context=context)
    result = await container.revoke_other_sessions_handler().handle(command)
    return respond(result, request, lambda count: OtherSessionsRevoked(revoked=count))


@router.delete(
    "/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End one of my sessions",
    responses=problems(*AUTHENTICATED, 404, 409, 422),
)
async def revoke_session(
    session_id: UUID,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> Response:
    return await _revoke(request, session_id, principal, container, context)


async def _revoke(
    request: Request,
    session_id: UUID,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> Response:
    command = RevokeSession(principal=principal, session_id=session_id, context=context)
    result = await container.revoke_session_handler().handle(command)
    return respond(result, request, no_content)
