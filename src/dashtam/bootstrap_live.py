"""The composition root's live-sync part: the SimpleFIN client, the sync policy, the handlers.

Reached through ``Container.live``; kept apart so that the root stays one screen per idea.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from dashtam.application.live.connect import ConnectLiveSourceHandler
from dashtam.application.live.policy import SyncPolicy
from dashtam.application.live.rotation import RotateCredentialsHandler
from dashtam.application.live.scheduler import SyncScheduler
from dashtam.application.live.sync import SyncConnectionHandler

if TYPE_CHECKING:
    from dashtam.bootstrap import Container
    from dashtam.domain.providers.live import LiveSource


class LiveSync:
    def __init__(self, container: Container) -> None:
        self._container = container

    @cached_property
    def source(self) -> LiveSource:
        from dashtam.infrastructure.providers.simplefin.client import SimplefinClient

        settings = self._container.settings
        return SimplefinClient(
            timeout_seconds=settings.sync_timeout_seconds,
            allow_loopback_http=settings.sync_allow_loopback_http,
            allow_private=settings.sync_allow_private,
            logger=self._container.logger("dashtam.providers.simplefin"),
        )

    @cached_property
    def policy(self) -> SyncPolicy:
        settings = self._container.settings
        return SyncPolicy(
            interval=timedelta(seconds=settings.sync_interval_seconds),
            first_days=settings.sync_first_days,
            overlap=timedelta(days=settings.sync_overlap_days),
            max_requests_per_day=settings.sync_max_requests_per_day,
        )

    def connect_handler(self) -> ConnectLiveSourceHandler:
        return ConnectLiveSourceHandler(
            uow_factory=self._container.unit_of_work,
            source=self.source,
            cipher=self._container.credential_cipher,
            logger=self._container.logger("dashtam.live"),
        )

    def sync_handler(self) -> SyncConnectionHandler:
        return SyncConnectionHandler(
            uow_factory=self._container.unit_of_work,
            source=self.source,
            cipher=self._container.credential_cipher,
            logger=self._container.logger("dashtam.live"),
            policy=self.policy,
        )

    def scheduler(self, *, worker_id: str | None = None) -> SyncScheduler:
        return SyncScheduler(
            uow_factory=self._container.unit_of_work,
            handler=self.sync_handler(),
            policy=self.policy,
            logger=self._container.logger("dashtam.worker"),
            worker_id=worker_id,
        )

    def rotate_handler(self) -> RotateCredentialsHandler:
        return RotateCredentialsHandler(
            uow_factory=self._container.unit_of_work, cipher=self._container.credential_cipher
        )
