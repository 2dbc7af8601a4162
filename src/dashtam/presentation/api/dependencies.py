"""FastAPI dependencies, as ``Annotated`` aliases."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dashtam.application.admin.commands import DenyAdminAccess
from dashtam.application.auth.commands import Principal
from dashtam.bootstrap import Container
from dashtam.core.errors import AuthenticationError
from dashtam.core.result import Failure, Success
from dashtam.core.tracing import get_trace_id
from dashtam.domain.audit import AuditContext
from dashtam.presentation.api.problems import ProblemError


# Dependencies are ``async def`` even when they never await: FastAPI runs a plain ``def``
# dependency in a worker thread, a hop there and back on every request.
async def get_container_dep(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


async def get_audit_context(request: Request) -> AuditContext:
    return _audit_context(request)


def _audit_context(request: Request) -> AuditContext:
    """Where this request came from; the actor is filled in once authentication exists."""
    user_agent = request.headers.get("user-agent")
    return AuditContext(
        ip_address=request.client.host if request.client else None,
        user_agent=user_agent[:512] if user_agent else None,
        trace_id=get_trace_id(),
    )


ContainerDep = Annotated[Container, Depends(get_container_dep)]
AuditContextDep = Annotated[AuditContext, Depends(get_audit_context)]


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


# Declares the scheme in OpenAPI (the "Authorize" button); errors stay ours (RFC 9457).
_bearer_scheme = HTTPBearer(auto_error=False, description="The access token of POST /sessions")


async def get_principal(
    request: Request,
    container: ContainerDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
) -> Principal:
    """The authenticated caller; 401 with ``WWW-Authenticate`` for any token problem."""
    token = _bearer_token(request)
    if token is None:
        raise ProblemError(AuthenticationError("an access token is required", code="missing_token"))
    match await container.authenticate_handler().handle(token):
        case Success(principal):
            request.state.principal = principal
            return principal
        case Failure(error):
            raise ProblemError(error)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_audit_context_for(request: Request, principal: PrincipalDep) -> AuditContext:
    return replace(_audit_context(request), actor_id=principal.user.id)


AuthenticatedContextDep = Annotated[AuditContext, Depends(get_audit_context_for)]


async def get_admin(
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> Principal:
    """The caller, if an administrator; anyone else gets 403 and the refusal is audited.

    With ``DASHTAM_REQUIRE_MFA_FOR_ADMINS``, an administrator's session must have proven a
    second factor too.
    """
    reason = "not_an_admin"
    if principal.user.is_admin:
        if principal.session.second_factor or not container.settings.require_mfa_for_admins:
            return principal
        reason = "mfa_required"
    denied = await container.deny_admin_access_handler().handle(
        DenyAdminAccess(path=request.url.path, context=context, reason=reason)
    )
    raise ProblemError(denied.error)


AdminDep = Annotated[Principal, Depends(get_admin)]
