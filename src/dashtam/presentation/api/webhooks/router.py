"""Webhook endpoints of the signed-in user, and their delivery log."""

from __future__ import annotations

import uuid
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from dashtam.application.webhooks.commands import CreateWebhook, EndpointCommand, UpdateWebhook
from dashtam.core.errors import ValidationError
from dashtam.presentation.api.cursors import decode_cursor_bytes, encode_cursor_bytes
from dashtam.presentation.api.dependencies import (
    ContainerDep,
    ReadPrincipalDep,
    WriteContextDep,
    WritePrincipalDep,
)
from dashtam.presentation.api.openapi import AUTHENTICATED, problems
from dashtam.presentation.api.problems import error_response
from dashtam.presentation.api.responses import no_content, respond
from dashtam.presentation.api.webhooks.schemas import (
    CreatedWebhookResponse,
    CreateWebhookRequest,
    DeliveryList,
    DeliveryResponse,
    TestQueuedResponse,
    UpdateWebhookRequest,
    WebhookList,
    WebhookResponse,
)

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CreatedWebhookResponse,
    summary="Register an endpoint (its signing secret is in this answer only)",
    responses=problems(*AUTHENTICATED, 409, 413, 422),
)
async def create_webhook(
    body: CreateWebhookRequest,
    request: Request,
    principal: WritePrincipalDep,
    container: ContainerDep,
    context: WriteContextDep,
) -> CreatedWebhookResponse | JSONResponse:
    command = CreateWebhook(
        user_id=principal.user.id,
        url=body.url,
        events=tuple(body.events),
        description=body.description,
        context=context,
    )
    result = await container.webhooks.handlers().create(command)
    return respond(result, request, CreatedWebhookResponse.created)


@router.get("", response_model=WebhookList, responses=problems(*AUTHENTICATED))
async def list_webhooks(
    request: Request, principal: ReadPrincipalDep, container: ContainerDep
) -> WebhookList | JSONResponse:
    result = await container.webhooks.queries().endpoints(principal.user.id)
    return respond(
        result, request, lambda found: WebhookList(items=[WebhookResponse.of(e) for e in found])
    )


@router.get(
    "/{endpoint_id}", response_model=WebhookResponse, responses=problems(*AUTHENTICATED, 404)
)
async def get_webhook(
    endpoint_id: UUID, request: Request, principal: ReadPrincipalDep, container: ContainerDep
) -> WebhookResponse | JSONResponse:
    result = await container.webhooks.queries().endpoint(principal.user.id, endpoint_id)
    return respond(result, request, WebhookResponse.of)


@router.patch(
    "/{endpoint_id}",
    response_model=WebhookResponse,
    responses=problems(*AUTHENTICATED, 404, 409, 413, 422),
)
async def update_webhook(
    endpoint_id: UUID,
    body: UpdateWebhookRequest,
    request: Request,
    principal: WritePrincipalDep,
    container: ContainerDep,
    context: WriteContextDep,
) -> WebhookResponse | JSONResponse:
    command = UpdateWebhook(
        user_id=principal.user.id,
        endpoint_id=endpoint_id,
        context=context,
        url=body.url,
        events=None if body.events is None else tuple(body.events),
        description=body.description,
        enabled=body.enabled,
    )
    result = await container.webhooks.handlers().update(command)
    return respond(result, request, WebhookResponse.of)


@router.delete(
    "/{endpoint_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(*AUTHENTICATED, 404),
)
async def delete_webhook(
    endpoint_id: UUID,
    request: Request,
    principal: WritePrincipalDep,
    container: ContainerDep,
    context: WriteContextDep,
) -> Response:
    command = EndpointCommand(user_id=principal.user.id, endpoint_id=endpoint_id, context=context)
    result = await container.webhooks.handlers().delete(command)
    return respond(result, request, no_content)


@router.post(
    "/{endpoint_id}/secret",
    response_model=CreatedWebhookResponse,
    summary="Replace the signing secret (the new one is in this answer only)",
    responses=problems(*AUTHENTICATED, 404, 409),
)
async def rotate_secret(
    endpoint_id: UUID,
    request: Request,
    principal: WritePrincipalDep,
    container: ContainerDep,
    context: WriteContextDep,
) -> CreatedWebhookResponse | JSONResponse:
    command = EndpointCommand(user_id=principal.user.id, endpoint_id=endpoint_id, context=context)
    result = await container.webhooks.handlers().rotate_secret(command)
    return respond(result, request, CreatedWebhookResponse.created)


@router.post(
    "/{endpoint_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TestQueuedResponse,
    summary="Queue a webhook.test event for this endpoint",
    responses=problems(*AUTHENTICATED, 404),
)
async def send_test(
    endpoint_id: UUID,
    request: Request,
    principal: WritePrincipalDep,
    container: ContainerDep,
    context: WriteContextDep,
) -> TestQueuedResponse | JSONResponse:
    command = EndpointCommand(user_id=principal.user.id, endpoint_id=endpoint_id, context=context)
    result = await container.webhooks.handlers().send_test(command)
    return respond(result, request, TestQueuedResponse.of)


@router.get(
    "/{endpoint_id}/deliveries",
    response_model=DeliveryList,
    summary="The delivery log, newest first",
    responses=problems(*AUTHENTICATED, 404, 422),
)
async def list_deliveries(
    endpoint_id: UUID,
    request: Request,
    principal: ReadPrincipalDep,
    container: ContainerDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> DeliveryList | JSONResponse:
    before = _before(cursor)
    if cursor and before is None:
        invalid = ValidationError("the cursor is not valid", details={"field": "cursor"})
        return error_response(invalid, request)
    result = await container.webhooks.queries().deliveries(
        principal.user.id, endpoint_id, before=before, limit=limit
    )
    return respond(
        result,
        request,
        lambda page: DeliveryList(
            items=[DeliveryResponse.of(d) for d in page],
            next_cursor=encode_cursor_bytes(page[-1].id.bytes) if len(page) == limit else None,
        ),
    )


def _before(cursor: str | None) -> UUID | None:
    raw = decode_cursor_bytes(cursor) if cursor else None
    return uuid.UUID(bytes=raw) if raw is not None and len(raw) == 16 else None
