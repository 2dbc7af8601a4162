"""Port: provider credentials (access URLs, tokens) sealed before they are stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

from dashtam.core.errors import Error, InfrastructureError
from dashtam.core.result import Result

CREDENTIALS_UNREADABLE = "credentials_unreadable"


@dataclass(frozen=True, slots=True)
class CredentialsUnreadableError(InfrastructureError):
    """A sealed credential did not open: unknown key, wrong context, altered or not sealed.

    The message and details never hold the sealed text, the plaintext or any key material;
    ``details["reason"]`` says which case it was (``malformed``, ``unknown_key``, ``rejected``).
    """

    default_code: ClassVar[str] = CREDENTIALS_UNREADABLE


class CredentialCipher(Protocol):
    """Authenticated encryption of short secrets, bound to where they are stored."""

    @property
    def current_key_id(self) -> str:
        """The public name of the key that seals new values."""
        ...

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The public names of every key that opens, the sealing one first."""
        ...

    def seal(self, plaintext: str, *, context: str) -> str:
        """Text safe to store; it opens only with the same ``context`` (e.g. the row's id)."""
        ...

    def open(self, sealed: str, *, context: str) -> Result[str, Error]:
        """The plaintext, or a ``credentials_unreadable`` failure; never raises."""
        ...

    def needs_rotation(self, sealed: str) -> bool:
        """True unless ``sealed`` is in the current format under the current key."""
        ...

    def reseal(self, sealed: str, *, context: str) -> Result[str, Error]:
        """``sealed`` under the current key (unchanged if already there, once it opens)."""
        ...
