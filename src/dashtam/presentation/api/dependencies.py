"""FastAPI dependencies, as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
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


# The bearer scheme of the OpenAPI document (its "Authorize" button). Never solved per request:
# the document's builder (``BearerSecurity``) states it on every operation that depends on one
# of ``BEARER_DEPENDENCIES``; the token itself is read by ``_bearer_token``.
BEARER_SCHEME = HTTPBearer(
    auto_error=False,
    scheme_name="HTTPBearer",
    description="The access token of POST /sessions, or a personal access token (dtm_pat_...)",
)

# Each dependency below takes the request alone and authenticates through ``_principal_of``,
# which remembers its answer in the request's scope: FastAPI solves every dependency a route
# names, and every dependency of those, on each request, and a chain of four (token, principal,
# scope, audit context) cost more than the route's own query.
_PRINCIPAL_KEY = "dashtam.principal"


async def _principal_of(request: Request) -> Principal:
    """Whoever the bearer token names, by any kind of token; 401 for any token problem."""
    known: Principal | None = request.scope.get(_PRINCIPAL_KEY)
    if known is not None:
        return known
    token = _bearer_token(request)
    if token is None:
        raise ProblemError(AuthenticationError("an access token is required", code="missing_token"))
    container: Container = request.app.state.container
    handler = container.identity.authenticate_handler()
    match await handler.handle(token, _audit_context(request)):
        case Success(principal):
            request.scope[_PRINCIPAL_KEY] = principal
            return principal
        case Failure(error):
            raise ProblemError(error)


def _signed_in(principal: Principal) -> SessionPrincipal:
    """``principal`` if it holds a log-in session: identity, sessions, personal tokens
    themselves and administration refuse personal tokens (403)."""
    if isinstance(principal, SessionPrincipal):
        return principal
    raise ProblemError(
        InsufficientScopeError(
            "a personal access token cannot be used here; sign in with a password",
            code="personal_token_not_allowed",
        )
    )


def _granting(principal: Principal, scope: TokenScope) -> Principal:
    """``principal`` if it may act with ``scope`` (a log-in session may do anything)."""
    if principal.grants(scope):
        return principal
    raise ProblemError(
        InsufficientScopeError(
            f"this personal access token does not have the {scope.value!r} scope",
            scope=scope.value,
        )
    )


def _context_of(request: Request, principal: Principal) -> AuditContext:
    return replace(
        _audit_context(request),
        actor_id=principal.user.id,
        personal_token_id=principal.personal_token_id,
    )


async def get_principal(request: Request) -> SessionPrincipal:
    """The caller, signed in with a log-in session: the default for every route."""
    return _signed_in(await _principal_of(request))


PrincipalDep = Annotated[SessionPrincipal, Depends(get_principal)]


async def get_audit_context_for(request: Request) -> AuditContext:
    return _context_of(request, _signed_in(await _principal_of(request)))


AuthenticatedContextDep = Annotated[AuditContext, Depends(get_audit_context_for)]


def require_scope(scope: TokenScope) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency: the caller, by a log-in session or by a personal token with ``scope``.

    Financial-data routes opt in to personal tokens through it (``ReadPrincipalDep`` ...).
    """

    async def scoped(request: Request) -> Principal:
        return _granting(await _principal_of(request), scope)

    scoped.__name__ = f"require_{scope.value}_scope"
    return scoped


def _context_requiring(scope: TokenScope) -> Callable[[Request], Awaitable[AuditContext]]:
    """A dependency: the audit context of a caller allowed ``scope`` (it records a personal
    token's id as ``pat_id``)."""

    async def context(request: Request) -> AuditContext:
        return _context_of(request, _granting(await _principal_of(request), scope))

    context.__name__ = f"get_{scope.value}_context"
    return context


require_read = require_scope(TokenScope.READ)
require_import = require_scope(TokenScope.IMPORT)
require_write = require_scope(TokenScope.WRITE)
get_read_context = _context_requiring(TokenScope.READ)
get_import_context = _context_requiring(TokenScope.IMPORT)
get_write_context = _context_requiring(TokenScope.WRITE)
# What a route that accepts personal tokens takes, by the scope it needs: the principal and
# the audit context.
ReadPrincipalDep = Annotated[Principal, Depends(require_read)]
ImportPrincipalDep = Annotated[Principal, Depends(require_import)]
WritePrincipalDep = Annotated[Principal, Depends(require_write)]
ReadContextDep = Annotated[AuditContext, Depends(get_read_context)]
ImportContextDep = Annotated[AuditContext, Depends(get_import_context)]
WriteContextDep = Annotated[AuditContext, Depends(get_write_context)]


async def get_admin(request: Request) -> SessionPrincipal:
    """The caller, if an administrator; anyone else gets 403 and the refusal is audited.

    With ``DASHTAM_REQUIRE_MFA_FOR_ADMINS``, an administrator's session must have proven a
    second factor too. A personal token is refused here like on every identity route, and the
    attempt is on the trail as well (it may be a stolen script's token probing).
    """
    principal = await _principal_of(request)
    container: Container = request.app.state.container
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


@dataclass(frozen=True, slots=True)
class CallerRequirement:
    """What an authenticating dependency demands of the caller (the access suite checks each
    route against it)."""

    personal_tokens: bool  # whether a personal access token may be the caller
    scope: TokenScope | None = None  # the scope such a token must hold
    admin: bool = False


# The dependencies that authenticate: an operation depending on one states the bearer scheme.
_SIGNED_IN = CallerRequirement(personal_tokens=False)
BEARER_DEPENDENCIES: Mapping[Callable[..., Awaitable[object]], CallerRequirement] = {
    get_principal: _SIGNED_IN,
    get_audit_context_for: _SIGNED_IN,
    require_read: CallerRequirement(personal_tokens=True, scope=TokenScope.READ),
    require_import: CallerRequirement(personal_tokens=True, scope=TokenScope.IMPORT),
    require_write: CallerRequirement(personal_tokens=True, scope=TokenScope.WRITE),
    get_read_context: CallerRequirement(personal_tokens=True, scope=TokenScope.READ),
    get_import_context: CallerRequirement(personal_tokens=True, scope=TokenScope.IMPORT),
    get_write_context: CallerRequirement(personal_tokens=True, scope=TokenScope.WRITE),
    get_admin: CallerRequirement(personal_tokens=False, admin=True),
}
