"""Security adapters."""

from dashtam.infrastructure.security.password_hasher import Argon2PasswordHasher

__all__ = ["Argon2PasswordHasher"]
