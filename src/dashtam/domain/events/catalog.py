"""The seed's events; feature events live beside their entities and register here."""

from __future__ import annotations

from dashtam.domain.accounts.events import AccountDeleted
from dashtam.domain.auth.events import (
    RecoveryCodesRegenerated,
    RecoveryCodeUsed,
    RefreshTokenReuseDetected,
    SecondFactorDisabled,
    SecondFactorEnabled,
    SessionRevoked,
    UserLoggedIn,
    UserLoginFailed,
)
from dashtam.domain.events.base import DomainEvent
from dashtam.domain.investments.events import HoldingsUpdated
from dashtam.domain.personal_tokens.events import PersonalTokenCreated, PersonalTokenRevoked
from dashtam.domain.providers.events import (
    ConnectionNeedsAttention,
    ProviderConnected,
    ProviderDisconnected,
    StatementImported,
    SyncCompleted,
    SyncFailed,
)
from dashtam.domain.users.events import (
    UserAccountClosed,
    UserDeleted,
    UserPasswordChanged,
    UserRegistered,
    UserUpdatedByAdmin,
)

_ALL: tuple[type[DomainEvent], ...] = (
    UserRegistered,
    UserPasswordChanged,
    UserDeleted,
    UserAccountClosed,
    UserUpdatedByAdmin,
    UserLoggedIn,
    UserLoginFailed,
    SessionRevoked,
    RefreshTokenReuseDetected,
    SecondFactorEnabled,
    SecondFactorDisabled,
    RecoveryCodeUsed,
    RecoveryCodesRegenerated,
    PersonalTokenCreated,
    PersonalTokenRevoked,
    ProviderConnected,
    ProviderDisconnected,
    StatementImported,
    AccountDeleted,
    HoldingsUpdated,
    SyncCompleted,
    SyncFailed,
    ConnectionNeedsAttention,
)


def event_types() -> dict[str, type[DomainEvent]]:
    """Every known event class by its stable ``event_type`` name."""
    return {cls.event_type: cls for cls in _ALL}
