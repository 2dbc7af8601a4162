"""FastAPI dependencies, as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from dashtam.application.admin.commands import DenyAdminAccess
from dashtam.application.auth.commands import Principal, SessionPrincipal
from dashtam.bootstrap import Container
from dashtam.core.errors import AuthenticationError, InsufficientScopeError
from dashtam.core.result import Failure, Success
from dashtam.core.tracing import get_trace_id
from dashtam.domain.audit import AuditContext
from dashtam.domain.personal_tokens.entities import TokenScope
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


class _BearerToken(HTTPBearer):
    """The request's bearer token, or None; declares the scheme in OpenAPI (the "Authorize"
    button) like ``HTTPBearer``, whose name it keeps. Errors stay ours (RFC 9457), and the
    header is read once, without a credentials model per request."""

    async def __call__(self, request: Request) -> str | None:  # type: ignore[override]
        return _bearer_token(request)


_bearer_scheme = _BearerToken(
    auto_error=False,
    scheme_name="HTTPBearer",
    description="The access token of POST /sessions, or a personal access token (dtm_pat_...)",
)


async def authenticate(
    request: Request, token: Annotated[str | None, Depends(_bearer_scheme)]
) -> Principal:
    """Whoever the bearer token names, by any kind of token; 401 for any token problem.

    Never a route's own dependency: a route takes ``PrincipalDep`` (log-in sessions only) or
    one of the scoped aliases below, which also accept a personal token holding that scope.
    The container comes from the app, not from ``ContainerDep``: FastAPI would solve that
    dependency again on every authenticated request.
    """
    if token is None:
        raise ProblemError(AuthenticationError("an access token is required", code="missing_token"))
    container: Container = request.app.state.container
    handler = container.identity.authenticate_handler()
    match await handler.handle(token, _audit_context(request)):
        case Success(principal):
            request.state.principal = principal
            return principal
        case Failure(error):
            raise ProblemError(error)


AnyPrincipal = Annotated[Principal, Depends(authenticate)]


async def get_principal(principal: AnyPrincipal) -> SessionPrincipal:
    """The caller, signed in with a log-in session. The default for every route: identity,
    sessions, personal tokens themselves and administration refuse personal tokens (403)."""
    if isinstance(principal, SessionPrincipal):
        return principal
    raise ProblemError(
        InsufficientScopeError(
            "a personal access token cannot be used here; sign in with a password",
            code="personal_token_not_allowed",
        )
    )


PrincipalDep = Annotated[SessionPrincipal, Depends(get_principal)]


def _context_of(request: Request, principal: Principal) -> AuditContext:
    return replace(
        _audit_context(request),
        actor_id=principal.user.id,
        personal_token_id=principal.personal_token_id,
    )


async def get_audit_context_for(request: Request, principal: PrincipalDep) -> AuditContext:
    return _context_of(request, principal)


AuthenticatedContextDep = Annotated[AuditContext, Depends(get_audit_context_for)]


def require_scope(scope: TokenScope) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency: the caller, by a log-in session or by a personal token with ``scope``.

    Financial-data routes opt in to personal tokens through it (``ReadPrincipalDep`` ...);
    FastAPI resolves a dependency once per request, so a route's principal and its audit
    context share one check.
    """

    async def scoped(principal: AnyPrincipal) -> Principal:
        if principal.grants(scope):
            return principal
        raise ProblemError(
            InsufficientScopeError(
                f"this personal access token does not have the {scope.value!r} scope",
                scope=scope.value,
            )
        )

    scoped.__name__ = f"require_{scope.value}_scope"
    return scoped


require_read = require_scope(TokenScope.READ)
require_import = require_scope(TokenScope.IMPORT)
require_write = require_scope(TokenScope.WRITE)
# What a route that accepts personal tokens takes, by the scope it needs: the principal and
# the audit context (which records the token's id as ``pat_id``).
ReadPrincipalDep = Annotated[Principal, Depends(require_read)]
ImportPrincipalDep = Annotated[Principal, Depends(require_import)]
WritePrincipalDep = Annotated[Principal, Depends(require_write)]


async def get_read_context(request: Request, principal: ReadPrincipalDep) -> AuditContext:
    return _context_of(request, principal)


async def get_import_context(request: Request, principal: ImportPrincipalDep) -> AuditContext:
    return _context_of(request, principal)


async def get_write_context(request: Request, principal: WritePrincipalDep) -> AuditContext:
    return _context_of(request, principal)


ReadContextDep = Annotated[AuditContext, Depends(get_read_context)]
ImportContextDep = Annotated[AuditContext, Depends(get_import_context)]
WriteContextDep = Annotated[AuditContext, Depends(get_write_context)]


async def get_admin(
    request: Request, principal: AnyPrincipal, container: ContainerDep
) -> SessionPrincipal:
    """The caller, if an administrator; anyone else gets 403 and the refusal is audited.

    With ``DASHTAM_REQUIRE_MFA_FOR_ADMINS``, an administrator's session must have proven a
    second factor too. A personal token is refused here like on every identity route, and the
    attempt is on the trail as well (it may be a stolen script's token probing).
    """
    context = _context_of(request, principal)
    if not isinstance(principal, SessionPrincipal):
        reason = "personal_token"
    elif not principal.user.is_admin:
        reason = "not_an_admin"
    elif principal.session.second_factor or not container.settings.require_mfa_for_admins:
        return principal
    else:
        reason = "mfa_required"
    denied = await container.deny_admin_access_handler().handle(
        DenyAdminAccess(path=request.url.path, context=context, reason=reason)
    )
    raise ProblemError(denied.error)


AdminDep = Annotated[SessionPrincipal, Depends(get_admin)]
