"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from dashtam.presentation.api.dependencies import ContainerDep
from dashtam.presentation.api.problems import problem_response

router = APIRouter(tags=["health"])


@router.get("/health", summary="The process is alive")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", summary="The process can reach its database", response_model=None)
async def ready(container: ContainerDep) -> dict[str, str] | JSONResponse:
    if not await container.database.check_connection():
        return problem_response(
            status=503, code="database_unavailable", detail="the database is not reachable"
        )
    current, head = await container.database.schema_status()
    if current != head:
        return problem_response(
            status=503, code="schema_not_current", detail="the database needs 'dashtam db upgrade'"
        )
    return {"status": "ready", "database": "ok", "schema": str(head)}
