"""The owner's corrections of transfer links between their own accounts (imports make them)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from dashtam.application.finance.transfers import (
    LinkTransfer,
    LinkTransferHandler,
    UnlinkTransfer,
    UnlinkTransferHandler,
)
from dashtam.domain.transactions.entities import Transaction
from dashtam.presentation.api.dependencies import (
    ContainerDep,
    WriteContextDep,
    WritePrincipalDep,
)
from dashtam.presentation.api.finance.schemas import TransactionResponse
from dashtam.presentation.api.openapi import AUTHENTICATED, problems
from dashtam.presentation.api.responses import no_content, respond

router = APIRouter(prefix="/api/v1/transactions", tags=["transactions"])


class LinkTransferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    other_id: UUID = Field(description="The other side: a transaction of another account")


class TransferResponse(BaseModel):
    transaction: TransactionResponse
    other: TransactionResponse

    @classmethod
    def of(cls, pair: tuple[Transaction, Transaction]) -> TransferResponse:
        return cls(
            transaction=TransactionResponse.of(pair[0]), other=TransactionResponse.of(pair[1])
        )


@router.put(
    "/{transaction_id}/transfer",
    response_model=TransferResponse,
    summary="Link two of my transactions as the two sides of a transfer",
    responses=problems(*AUTHENTICATED, 400, 404, 409, 413, 422),
)
async def link_transfer(
    transaction_id: UUID,
    body: LinkTransferRequest,
    request: Request,
    principal: WritePrincipalDep,
    container: ContainerDep,
    context: WriteContextDep,
) -> TransferResponse | JSONResponse:
    command = LinkTransfer(
        user_id=principal.user.id,
        transaction_id=transaction_id,
        other_id=body.other_id,
        context=context,
    )
    handler = LinkTransferHandler(uow_factory=container.unit_of_work)
    return respond(await handler.handle(command), request, TransferResponse.of)


@router.delete(
    "/{transaction_id}/transfer",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Not a transfer: unlink both sides, and imports will not link them again",
    responses=problems(*AUTHENTICATED, 404, 422),
)
async def unlink_transfer(
    transaction_id: UUID,
    request: Request,
    principal: WritePrincipalDep,
    container: ContainerDep,
    context: WriteContextDep,
) -> Response:
    command = UnlinkTransfer(
        user_id=principal.user.id, transaction_id=transaction_id, context=context
    )
    handler = UnlinkTransferHandler(uow_factory=container.unit_of_work)
    return respond(await handler.handle(command), request, no_content)
