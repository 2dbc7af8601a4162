"""Port: making personal access tokens and the keyed digests they are stored as."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class NewPersonalToken:
    """A fresh token: ``text`` is shown to its owner once; only ``digest`` is stored."""

    text: str = field(repr=False)
    digest: str
    hint: str


class PersonalTokenCodec(Protocol):
    def issue(self) -> NewPersonalToken: ...

    def digest(self, text: str) -> str | None:
        """The stored digest of a well-formed token; None for anything that is not one of
        ours (wrong prefix, length, alphabet or checksum), which no stored token can match."""
        ...
