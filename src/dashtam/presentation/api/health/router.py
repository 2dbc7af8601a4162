"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from dashtam.bootstrap import DatabaseUnavailableError
from dashtam.core.result import Failure, Success
from dashtam.presentation.api.dependencies import ContainerDep
from dashtam.presentation.api.openapi import problems
from dashtam.presentation.api.problems import problem_response

router = APIRouter(tags=["health"])

_DETAILS = {
    "database_read_only": "the database accepts no writes",
    "storage_full": "the database cannot grow: its disk or size limit is full",
    "schema_not_current": "the database needs 'dashtam db upgrade'",
}


@router.get("/health", summary="The process is alive")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="The process can write to its database (answers within about a second)",
    response_model=None,
    responses=problems(503),
)
async def ready(container: ContainerDep) -> dict[str, str] | JSONResponse:
    match await container.database.readiness():
        case Success(head):
            return {"status": "ready", "database": "ok", "schema": str(head)}
        case Failure(error):
            retry_after = (
                error.retry_after_seconds if isinstance(error, DatabaseUnavailableError) else 5
            )
            code = error.code if error.code in _DETAILS else "database_unavailable"
            # Always 503 (even for a full disk): a probe says "not now", not what to fix.
            return problem_response(
                status=503,
                code=code,
                detail=_DETAILS.get(code, "the database is not reachable"),
                headers={"Retry-After": str(retry_after)},
            )
