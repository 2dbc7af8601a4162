"""Finding a user by what an operator types: an email address."""

from __future__ import annotations

from dashtam.application.lifecycle import ReadRunner
from dashtam.application.reads import ReadUnitOfWorkFactory
from dashtam.core.errors import Error, NotFoundError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.users.entities import User
from dashtam.domain.users.value_objects import Email


class FindActiveUser:
    """The user who may log in with ``email`` (command-line tools act for users by email)."""

    def __init__(self, *, uow_factory: ReadUnitOfWorkFactory) -> None:
        self._runner = ReadRunner(uow_factory)

    async def handle(self, email: str) -> Result[User, Error]:
        parsed = Email.parse(email)
        if isinstance(parsed, Failure):
            return parsed
        found = await self._runner.read(None, lambda uow: uow.users.find_by_email(parsed.value))
        match found:
            case Success(User() as user) if user.can_log_in:
                return Success(user)
            case Failure() as failed:
                return failed
        return Failure(NotFoundError(f"no active user {parsed.value}"))
