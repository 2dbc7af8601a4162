"""My second factor: status, enrol and confirm an authenticator, recovery codes, disable."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from dashtam.application.auth.mfa_commands import (
    ConfirmTotp,
    DisableTotp,
    EnrolTotp,
    RegenerateRecoveryCodes,
)
from dashtam.presentation.api.dependencies import (
    AuthenticatedContextDep,
    ContainerDep,
    PrincipalDep,
)
from dashtam.presentation.api.openapi import AUTHENTICATED, problems
from dashtam.presentation.api.responses import respond, with_headers
from dashtam.presentation.api.users.mfa_schemas import (
    CodeRequest,
    DisableTotpRequest,
    EnrolTotpRequest,
    FactorChangedResponse,
    MfaStatusResponse,
    TotpEnrolmentResponse,
)

router = APIRouter(prefix="/api/v1/users/me/mfa", tags=["second factor"])

# Secrets and recovery codes: never kept by a cache (RFC 9111 no-store).
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.get(
    "",
    response_model=MfaStatusResponse,
    summary="My second factor: enabled or not, recovery codes left",
    responses=problems(*AUTHENTICATED),
)
async def get_mfa_status(
    request: Request, principal: PrincipalDep, container: ContainerDep
) -> MfaStatusResponse | JSONResponse:
    result = await container.mfa_status_handler().handle(principal.user.id)
    return respond(result, request, MfaStatusResponse.of)


@router.post(
    "/totp",
    response_model=TotpEnrolmentResponse,
    status_code=status.HTTP_201_CREATED,
    summary="Start enrolling an authenticator app (TOTP): the secret and its QR code",
    responses=problems(*AUTHENTICATED, 403, 409, 413, 422, 429),
)
async def enrol_totp(
    request: Request,
    response: Response,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
    body: EnrolTotpRequest | None = None,
) -> TotpEnrolmentResponse | JSONResponse:
    command = EnrolTotp(
        user_id=principal.user.id,
        password=body.password if body is not None else None,
        logged_in_at=principal.session.created_at,
        expected_version=principal.user.version,
        context=context,
    )
    result = await container.enrol_totp_handler().handle(command)
    return respond(result, request, with_headers(response, _NO_STORE, TotpEnrolmentResponse.of))


@router.post(
    "/totp/confirm",
    response_model=FactorChangedResponse,
    summary="Confirm the authenticator with its first code: the factor is on, recovery codes",
    responses=problems(*AUTHENTICATED, 409, 413, 422),
)
async def confirm_totp(
    body: CodeRequest,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> FactorChangedResponse | JSONResponse:
    command = ConfirmTotp(
        user_id=principal.user.id,
        session_id=principal.session.id,
        code=body.code,
        context=context,
    )
    result = await container.confirm_totp_handler().handle(command)
    return respond(result, request, with_headers(response, _NO_STORE, FactorChangedResponse.of))


@router.post(
    "/recovery-codes",
    response_model=FactorChangedResponse,
    summary="New recovery codes for a code from the authenticator (the old ones stop working)",
    responses=problems(*AUTHENTICATED, 409, 413, 422),
)
async def regenerate_recovery_codes(
    body: CodeRequest,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> FactorChangedResponse | JSONResponse:
    command = RegenerateRecoveryCodes(
        user_id=principal.user.id,
        session_id=principal.session.id,
        code=body.code,
        context=context,
    )
    result = await container.regenerate_recovery_codes_handler().handle(command)
    return respond(result, request, with_headers(response, _NO_STORE, FactorChangedResponse.of))


@router.post(
    "/totp/disable",
    response_model=FactorChangedResponse,
    summary="Remove the authenticator: needs the password and a code (or a recovery code)",
    responses=problems(*AUTHENTICATED, 409, 413, 422, 429),
)
async def disable_totp(
    body: DisableTotpRequest,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> FactorChangedResponse | JSONResponse:
    command = DisableTotp(
        user_id=principal.user.id,
        session_id=principal.session.id,
        password=body.password,
        code=body.code,
        recovery_code=body.recovery_code,
        expected_version=principal.user.version,
        context=context,
    )
    result = await container.disable_totp_handler().handle(command)
    return respond(result, request, FactorChangedResponse.of)
