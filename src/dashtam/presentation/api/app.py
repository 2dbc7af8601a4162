"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError

from dashtam import __version__
from dashtam.bootstrap import (
    BackgroundDelivery,
    Container,
    configure_logging,
    get_container,
    get_logger,
)
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.presentation.api.admin.router import router as admin_router
from dashtam.presentation.api.auth.router import router as auth_router
from dashtam.presentation.api.dependencies import BEARER_DEPENDENCIES, BEARER_SCHEME
from dashtam.presentation.api.finance.accounts_router import router as accounts_router
from dashtam.presentation.api.finance.connections_router import router as connections_router
from dashtam.presentation.api.finance.feed_router import router as feed_router
from dashtam.presentation.api.finance.transfers_router import router as transfers_router
from dashtam.presentation.api.health.router import router as health_router
from dashtam.presentation.api.investments.router import router as investments_router
from dashtam.presentation.api.middleware import (
    BodyLimitMiddleware,
    JsonByDefaultMiddleware,
    SharedReadsMiddleware,
    TraceIdMiddleware,
)
from dashtam.presentation.api.openapi import BearerSecurity, install_openapi
from dashtam.presentation.api.personal_tokens.router import router as personal_tokens_router
from dashtam.presentation.api.problems import install_problem_handlers
from dashtam.presentation.api.users.mfa_router import router as mfa_router
from dashtam.presentation.api.users.router import router as users_router
from dashtam.presentation.api.webhooks.router import router as webhooks_router

# Every JSON body of the API is small; a megabyte is generous and stops memory abuse.
JSON_BODY_LIMIT = 1024 * 1024


# The order of the API's areas in the OpenAPI document.
DOCUMENTED = (
    health_router,
    users_router,
    mfa_router,
    auth_router,
    personal_tokens_router,
    admin_router,
    connections_router,
    feed_router,
    accounts_router,
    investments_router,
    transfers_router,
    webhooks_router,
)
# The order requests are matched in: FastAPI tries every route of each router included before
# the one that answers (6-8% of a one-account read when the finance reads came ninth), so the
# hot reads come right after the liveness probes. No path of one router is matched by a route
# of another that now comes before it (tests/api/test_routing_order.py checks every route);
# 'sync' still meets the feed before any /transactions/{id} route.
MATCHED = (
    health_router,
    accounts_router,
    feed_router,
    users_router,
    mfa_router,
    auth_router,
    personal_tokens_router,
    admin_router,
    connections_router,
    investments_router,
    transfers_router,
    webhooks_router,
)


def _lifespan(resolved: Container) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start-up checks, then the background work of one API process, stopped in reverse."""
    settings = resolved.settings
    logger = get_logger("dashtam.api")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        for problem in settings.check_production_safety():
            logger.error("unsafe_configuration", problem=problem)
            raise RuntimeError(problem)
        await _require_current_schema(resolved, logger)
        # Events committed before a crash are delivered now (at least once); a big backlog and
        # failed deliveries are carried on by a background loop, stopped below.
        delivery = BackgroundDelivery(
            resolved.event_bus,
            interval=settings.event_retry_interval_seconds,
            logger=get_logger("dashtam.events"),
        )
        delivered = await delivery.start()
        stop_sealing = asyncio.Event()
        sealing = _start_sealing(resolved, stop_sealing)
        stop_webhooks = asyncio.Event()
        webhooks = _start_webhooks(resolved, stop_webhooks)
        stop_syncing = asyncio.Event()
        syncing = _start_syncing(resolved, stop_syncing)
        # Read audit records are written in batches by a background flusher (docs/audit.md).
        read_audit = resolved.read_audit_log
        read_audit.start()
        logger.info("api_started", redelivered_events=delivered, environment=settings.environment)
        _freeze_startup_objects()
        try:
            yield
        finally:
            gc.unfreeze()  # an app started again in this process (tests) starts afresh
            # First, while the database is still open: a clean stop loses no read record.
            await read_audit.close()
            await delivery.stop()
            stop_sealing.set()
            if sealing is not None:
                await sealing
            stop_webhooks.set()  # the batch in flight finishes; a later claim resends the rest
            if webhooks is not None:
                await webhooks
            stop_syncing.set()
            if syncing is not None:
                await syncing  # a sync in flight finishes (its lease would expire otherwise)
            await resolved.aclose()
            logger.info("api_stopped")

    return lifespan


def _freeze_startup_objects() -> None:
    """Leave what start-up built (modules, the app, its routes and schemas, the pools) out of
    every later garbage collection.

    A full collection walks every tracked object and holds the GIL meanwhile. Under load the
    objects of requests in flight outlive the young generations, so full collections come
    every second or two, and each walked the objects of start-up that never die: 110-170 ms
    during which no request moved (bench/sqlite_readers.py: gaps in its answers every ~1.5 s),
    13-24 ms once they are left out. ``freeze`` only moves them aside (no collection first:
    that would cost every test that starts the app a full pass).
    """
    gc.freeze()


async def _require_current_schema(resolved: Container, logger: LoggerProtocol) -> None:
    try:
        current, head = await resolved.database.schema_status()
    except (SQLAlchemyError, OSError) as exc:
        # Start anyway: /ready answers 503 until the database is back.
        logger.warning("database_unavailable_at_startup", error_type=type(exc).__name__)
        return
    if current != head:
        logger.error("schema_not_current", current=current, head=head)
        raise RuntimeError(
            f"database schema is at {current or 'nothing'}, this release needs {head}: "
            "run 'dashtam db upgrade' first"
        )


def _start_sealing(resolved: Container, stop: asyncio.Event) -> asyncio.Task[None] | None:
    """Seal the audit chain every few seconds, off the request path (several workers may:
    sealers take turns on their own lock), and write signed checkpoints now and then."""
    settings = resolved.settings
    if settings.audit_seal_interval_seconds <= 0:
        return None
    return asyncio.create_task(
        resolved.audit_chain.seal_until(
            stop,
            interval=settings.audit_seal_interval_seconds,
            checkpoint_interval=settings.audit_checkpoint_interval_seconds,
            checkpoint_path=settings.audit_checkpoint_path,
        )
    )


def _start_webhooks(resolved: Container, stop: asyncio.Event) -> asyncio.Task[None] | None:
    """Post due webhook deliveries in the background (a ``dashtam worker`` may do it instead,
    or as well: claims never overlap)."""
    interval = resolved.settings.webhook_interval_seconds
    if interval <= 0:
        return None
    sender = resolved.webhooks.sender
    return asyncio.create_task(sender.run(stop=stop, interval=interval), name="dashtam-webhooks")


def _start_syncing(resolved: Container, stop: asyncio.Event) -> asyncio.Task[None] | None:
    """With DASHTAM_SYNC_IN_API, each API process is also a sync worker (claims never overlap,
    so several processes share the work); otherwise ``dashtam worker`` runs syncs."""
    settings = resolved.settings
    if not settings.sync_in_api:
        return None
    scheduler = resolved.live.scheduler()
    return asyncio.create_task(
        scheduler.run(stop=stop, interval=settings.worker_poll_seconds), name="dashtam-sync"
    )


def create_app(container: Container | None = None, *, configure_logs: bool = True) -> FastAPI:
    """Build the API around ``container`` (the process-wide one by default)."""
    resolved = container or get_container()
    settings = resolved.settings
    if configure_logs:
        configure_logging(level=settings.log_level, log_format=settings.effective_log_format)

    app = FastAPI(
        title="Dashtam",
        version=__version__,
        summary="Self-hostable financial-data aggregation",
        lifespan=_lifespan(resolved),
        # A slash redirect is answered before authentication with a Location built from the
        # client's Host header: an unknown path (trailing slash included) is a 404 problem.
        redirect_slashes=False,
    )
    app.state.container = resolved
    app.add_middleware(SharedReadsMiddleware, scope_of=resolved.shared_reads)  # innermost
    app.add_middleware(JsonByDefaultMiddleware)
    app.add_middleware(
        BodyLimitMiddleware,
        default_limit=JSON_BODY_LIMIT,
        # The file, plus room for the multipart framing and the small form fields.
        upload_limit=settings.import_max_bytes + 64 * 1024,
    )
    app.add_middleware(TraceIdMiddleware)  # added last = outermost: traces everything
    install_problem_handlers(app)
    # The document lists the API's areas in their reading order, whatever order they are
    # matched in.
    install_openapi(
        app,
        bearer=BearerSecurity(BEARER_SCHEME, BEARER_DEPENDENCIES),
        routes=[route for router in DOCUMENTED for route in router.routes],
    )
    for router in MATCHED:
        app.include_router(router)
    return app
