"""The composition root's identity part: who a bearer token names (an access token or a
personal access token), personal tokens themselves, and the trace of a revoked token's use.

Reached through ``Container.identity``; kept apart so that the root stays one screen per idea.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from dashtam.application.auth.revoked_use import RevokedTokenUse
from dashtam.application.auth.sessions import AuthenticateHandler
from dashtam.application.personal_tokens.authenticate import PersonalTokenAuthenticator
from dashtam.application.personal_tokens.handlers import PersonalTokenHandlers
from dashtam.application.personal_tokens.usage import BufferedTokenUsage

if TYPE_CHECKING:
    from dashtam.bootstrap import Container
    from dashtam.domain.protocols.personal_tokens import PersonalTokenCodec


class IdentityWiring:
    def __init__(self, container: Container) -> None:
        self._container = container

    @cached_property
    def personal_token_codec(self) -> PersonalTokenCodec:
        from dashtam.infrastructure.security.personal_tokens import HmacPersonalTokenCodec

        secret = self._container.settings.secret_key.get_secret_value()
        return HmacPersonalTokenCodec(secret_key=secret)

    @cached_property
    def token_usage(self) -> BufferedTokenUsage:
        """App-scoped: ``Container.aclose`` writes what it still holds."""
        return BufferedTokenUsage(
            uow_factory=self._container.unit_of_work,
            logger=self._container.logger("dashtam.auth"),
        )

    @cached_property
    def revoked_use(self) -> RevokedTokenUse:
        """App-scoped: it remembers which tokens it recorded lately."""
        return RevokedTokenUse(uow_factory=self._container.unit_of_work)

    def authenticate_handler(self) -> AuthenticateHandler:
        return AuthenticateHandler(
            uow_factory=self._container.read_unit_of_work,
            tokens=self._container.tokens,
            personal_tokens=self.personal_token_authenticator(),
            revoked_use=self.revoked_use,
        )

    def personal_token_authenticator(self) -> PersonalTokenAuthenticator:
        return PersonalTokenAuthenticator(
            uow_factory=self._container.read_unit_of_work,
            codec=self.personal_token_codec,
            usage=self.token_usage,
            revoked_use=self.revoked_use,
        )

    def personal_token_handlers(self) -> PersonalTokenHandlers:
        return PersonalTokenHandlers(
            uow_factory=self._container.unit_of_work,
            read_uow_factory=self._container.read_unit_of_work,
            codec=self.personal_token_codec,
            logger=self._container.logger("dashtam.auth"),
        )

    async def aclose(self) -> None:
        if "token_usage" in self.__dict__:
            await self.__dict__.pop("token_usage").close()
