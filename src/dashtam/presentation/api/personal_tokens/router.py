"""Personal access tokens of the signed-in user: create, list, revoke.

Only a log-in session manages them (``PrincipalDep``): a personal token can neither make
another one nor list or revoke any.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from dashtam.application.personal_tokens.commands import (
    MAX_TOKEN_PAGE,
    CreatePersonalToken,
    ListPersonalTokens,
    RevokePersonalToken,
)
from dashtam.core.errors import ValidationError
from dashtam.presentation.api.cursors import decode_id_cursor, encode_id_cursor
from dashtam.presentation.api.dependencies import (
    AuthenticatedContextDep,
    ContainerDep,
    PrincipalDep,
)
from dashtam.presentation.api.openapi import AUTHENTICATED, problems
from dashtam.presentation.api.personal_tokens.schemas import (
    CreatedPersonalTokenResponse,
    CreatePersonalTokenRequest,
    PersonalTokenPage,
    PersonalTokenResponse,
)
from dashtam.presentation.api.problems import error_response
from dashtam.presentation.api.responses import no_content, respond, with_headers

router = APIRouter(prefix="/api/v1/tokens/personal", tags=["personal access tokens"])

# The answer carries a credential (RFC 6749 5.1 asks the same of token responses).
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CreatedPersonalTokenResponse,
    summary="Create a personal access token for scripts (its text is in this answer only)",
    responses=problems(*AUTHENTICATED, 409, 413, 422),
)
async def create_personal_token(
    body: CreatePersonalTokenRequest,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> CreatedPersonalTokenResponse | JSONResponse:
    command = CreatePersonalToken(
        user_id=principal.user.id,
        name=body.name,
        scopes=tuple(body.scopes),
        expires_in_days=body.expires_in_days,
        context=context,
    )
    result = await container.identity.personal_token_handlers().create(command)
    return respond(
        result, request, with_headers(response, _NO_STORE, CreatedPersonalTokenResponse.created)
    )


@router.get(
    "",
    response_model=PersonalTokenPage,
    summary="My personal access tokens, newest first (revoked and expired ones included)",
    responses=problems(*AUTHENTICATED, 422),
)
async def list_personal_tokens(
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_TOKEN_PAGE)] = 50,
) -> PersonalTokenPage | JSONResponse:
    after = decode_id_cursor(cursor) if cursor else None
    if cursor and after is None:
        invalid = ValidationError("the cursor is not valid", details={"field": "cursor"})
        return error_response(invalid, request)
    query = ListPersonalTokens(user_id=principal.user.id, after=after, limit=limit)
    result = await container.identity.personal_token_handlers().list_tokens(query)
    return respond(
        result,
        request,
        lambda tokens: PersonalTokenPage(
            items=[PersonalTokenResponse.of(t) for t in tokens],
            # A full page may have a next one; a short page is the last.
            next_cursor=encode_id_cursor(tokens[-1].id) if len(tokens) == limit else None,
        ),
    )


@router.delete(
    "/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke one of my personal access tokens (it stops working at once)",
    responses=problems(*AUTHENTICATED, 404, 409, 422),
)
async def revoke_personal_token(
    token_id: UUID,
    request: Request,
    principal: PrincipalDep,
    container: ContainerDep,
    context: AuthenticatedContextDep,
) -> Response:
    command = RevokePersonalToken(user_id=principal.user.id, token_id=token_id, context=context)
    result = await container.identity.personal_token_handlers().revoke(command)
    return respond(result, request, no_content)
