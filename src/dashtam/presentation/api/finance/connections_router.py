"""Provider connections and file imports."""

from __future__ import annotations

import json
import re
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile, status
from fastapi.responses import JSONResponse

from dashtam.application.finance.commands import (
    CreateConnection,
    DisconnectConnection,
    ImportStatement,
)
from dashtam.application.live.commands import ConnectLiveSource, SyncConnection
from dashtam.bootstrap import PRESETS
from dashtam.core.errors import ValidationError
from dashtam.domain.imports.statement import CsvOptions
from dashtam.presentation.api.dependencies import (
    ContainerDep,
    ImportContextDep,
    ImportPrincipalDep,
    ReadContextDep,
    ReadPrincipalDep,
    WriteContextDep,
    WritePrincipalDep,
)
from dashtam.presentation.api.finance.schemas import (
    ConnectionList,
    ConnectionResponse,
    CreateConnectionRequest,
    ImportResponse,
    SyncResponse,
)
from dashtam.presentation.api.openapi import AUTHENTICATED, problems
from dashtam.presentation.api.problems import error_response, problem_response
from dashtam.presentation.api.responses import no_content, respond
from dashtam.presentation.api.validators import NO_CONTROL_CHARACTERS_SCHEMA, NoControlCharacters

router = APIRouter(prefix="/api/v1/connections", tags=["connections"])
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CHUNK = 1024 * 1024


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ConnectionResponse,
    responses=problems(*AUTHENTICATED, 409, 413, 422),
    description=(
        "A file connection (`ofx-file`, `csv-file`, `manual`), or a live one: "
        '`{"provider": "simplefin", "setup_token": ...}` claims the token (once) and keeps '
        "the access encrypted; the first sync follows by itself (docs/sync.md)."
    ),
)
async def create_connection(
    body: CreateConnectionRequest,
    request: Request,
    principal: WritePrincipalDep,
    container: ContainerDep,
    context: WriteContextDep,
) -> ConnectionResponse | JSONResponse:
    if body.setup_token is not None:
        live = ConnectLiveSource(
            user_id=principal.user.id,
            provider=body.provider,
            label=body.label,
            setup_token=body.setup_token,
            context=context,
        )
        connected = await container.live.connect_handler().handle(live)
        return respond(connected, request, ConnectionResponse.of)
    command = CreateConnection(
        user_id=principal.user.id, provider=body.provider, label=body.label, context=context
    )
    result = await container.create_connection_handler().handle(command)
    return respond(result, request, ConnectionResponse.of)


@router.post(
    "/{connection_id}/sync",
    response_model=SyncResponse,
    summary="Sync a live connection now (what the worker does on its schedule)",
    responses=problems(*AUTHENTICATED, 404, 409, 422, 429, 502),
)
async def sync_connection(
    connection_id: UUID,
    request: Request,
    principal: WritePrincipalDep,
    container: ContainerDep,
    context: WriteContextDep,
) -> SyncResponse | JSONResponse:
    command = SyncConnection(
        user_id=principal.user.id, connection_id=connection_id, context=context
    )
    result = await container.live.sync_handler().handle(command)
    return respond(result, request, SyncResponse.of)


@router.get("", response_model=ConnectionList, responses=problems(*AUTHENTICATED))
async def list_connections(
    request: Request,
    principal: ReadPrincipalDep,
    container: ContainerDep,
    context: ReadContextDep,
) -> ConnectionList | JSONResponse:
    result = await container.finance_queries().connections(principal.user.id, context)
    return respond(
        result,
        request,
        lambda connections: ConnectionList(items=[ConnectionResponse.of(c) for c in connections]),
    )


@router.delete(
    "/{connection_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(*AUTHENTICATED, 404, 409, 422),
)
async def disconnect(
    connection_id: UUID,
    request: Request,
    principal: WritePrincipalDep,
    container: ContainerDep,
    context: WriteContextDep,
    purge: Annotated[bool, Query(description="Also delete its accounts and transactions")] = False,
) -> Response:
    command = DisconnectConnection(
        user_id=principal.user.id, connection_id=connection_id, purge=purge, context=context
    )
    result = await container.disconnect_connection_handler().handle(command)
    return respond(result, request, no_content)


@router.post(
    "/{connection_id}/imports",
    response_model=ImportResponse,
    summary="Import an OFX/QFX or CSV export (all or nothing, idempotent)",
    responses=problems(*AUTHENTICATED, 404, 409, 413, 422),
)
async def import_file(
    connection_id: UUID,
    request: Request,
    principal: ImportPrincipalDep,
    container: ContainerDep,
    context: ImportContextDep,
    file: Annotated[UploadFile, File(description="The bank export")],
    preset: Annotated[
        str | None,
        Form(max_length=64, json_schema_extra={"enum": sorted(PRESETS)}),
    ] = None,
    mapping: Annotated[str | None, Form(max_length=4096, description="JSON column mapping")] = None,
    account: Annotated[
        str | None,
        NoControlCharacters,
        Form(
            max_length=64,
            description="CSV: account name",
            json_schema_extra=NO_CONTROL_CHARACTERS_SCHEMA,
        ),
    ] = None,
) -> ImportResponse | JSONResponse:
    limit = container.settings.import_max_bytes
    data = await _read_limited(file, limit)
    if data is None:
        return problem_response(
            status=413,
            code="file_too_large",
            detail=f"the file is larger than {limit} bytes",
            instance=request.url.path,
        )
    parsed_mapping: dict[str, str] | None = None
    if mapping:
        try:
            loaded = json.loads(mapping)
        except json.JSONDecodeError:
            loaded = None
        if not isinstance(loaded, dict):
            invalid = ValidationError(
                "mapping must be a JSON object",
                code="invalid_mapping",
                details={"field": "mapping"},
            )
            return error_response(invalid, request)
        parsed_mapping = {str(k): str(v) for k, v in loaded.items()}
    command = ImportStatement(
        user_id=principal.user.id,
        connection_id=connection_id,
        data=data,
        # Recorded in the audit trail: control characters (NUL) would not store on PostgreSQL.
        filename=_CONTROL.sub("", file.filename) if file.filename else None,
        csv=CsvOptions(preset=preset, mapping=parsed_mapping, account=account),
        context=context,
    )
    result = await container.import_statement_handler().handle(command)
    return respond(result, request, ImportResponse.of)


async def _read_limited(upload: UploadFile, limit: int) -> bytes | None:
    """The upload's bytes, or None as soon as it exceeds ``limit`` (never read it all)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await upload.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
