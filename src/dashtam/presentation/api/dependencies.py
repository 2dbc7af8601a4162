"""FastAPI dependencies, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from dashtam.core.container import Container
from dashtam.core.tracing import get_trace_id
from dashtam.domain.audit import AuditContext


def get_container_dep(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def get_audit_context(request: Request) -> AuditContext:
    """Where this request came from; the actor is filled in once authentication exists."""
    user_agent = request.headers.get("user-agent")
    return AuditContext(
        ip_address=request.client.host if request.client else None,
        user_agent=user_agent[:512] if user_agent else None,
        trace_id=get_trace_id(),
    )


ContainerDep = Annotated[Container, Depends(get_container_dep)]
AuditContextDep = Annotated[AuditContext, Depends(get_audit_context)]
