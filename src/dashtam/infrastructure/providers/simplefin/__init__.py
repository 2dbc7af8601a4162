"""SimpleFIN (https://www.simplefin.org/protocol.html): setup tokens, access URLs, Account Sets."""

from dashtam.infrastructure.providers.simplefin.client import SimplefinClient

__all__ = ["SimplefinClient"]
