"""Every model, imported so that ``Base.metadata`` is complete for migrations."""

from dashtam.infrastructure.persistence.models.audit import AuditLogModel
from dashtam.infrastructure.persistence.models.audit_seals import AuditSealModel
from dashtam.infrastructure.persistence.models.auth import (
    AuthSessionModel,
    LoginAttemptModel,
    RefreshTokenModel,
)
from dashtam.infrastructure.persistence.models.feed import (
    TransactionChangeModel,
    TransactionFeedHeadModel,
)
from dashtam.infrastructure.persistence.models.finance import (
    AccountModel,
    BalanceSnapshotModel,
    ConnectionModel,
    ProviderModel,
    TransactionModel,
)
from dashtam.infrastructure.persistence.models.investments import (
    HoldingModel,
    InvestmentBalanceModel,
    InvestmentTransactionModel,
    SecurityModel,
)
from dashtam.infrastructure.persistence.models.outbox import EventDeliveryModel, OutboxEventModel
from dashtam.infrastructure.persistence.models.personal_tokens import PersonalTokenModel
from dashtam.infrastructure.persistence.models.second_factor import (
    MfaChallengeModel,
    RecoveryCodeModel,
    TotpFactorModel,
)
from dashtam.infrastructure.persistence.models.users import UserModel
from dashtam.infrastructure.persistence.models.webhooks import (
    WebhookDeliveryModel,
    WebhookEndpointModel,
)

__all__ = [
    "AccountModel",
    "AuditLogModel",
    "AuditSealModel",
    "AuthSessionModel",
    "BalanceSnapshotModel",
    "ConnectionModel",
    "EventDeliveryModel",
    "HoldingModel",
    "InvestmentBalanceModel",
    "InvestmentTransactionModel",
    "LoginAttemptModel",
    "MfaChallengeModel",
    "OutboxEventModel",
    "PersonalTokenModel",
    "ProviderModel",
    "RecoveryCodeModel",
    "RefreshTokenModel",
    "SecurityModel",
    "TotpFactorModel",
    "TransactionChangeModel",
    "TransactionFeedHeadModel",
    "TransactionModel",
    "UserModel",
    "WebhookDeliveryModel",
    "WebhookEndpointModel",
]
