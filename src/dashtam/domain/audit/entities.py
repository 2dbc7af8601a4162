"""The audit trail's vocabulary: who did what, when, where, to what, with which outcome."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id


class AuditAction(StrEnum):
    USER_REGISTERED = "user.registered"
    USER_REGISTRATION_FAILED = "user.registration_failed"
    USER_LOGIN_SUCCEEDED = "user.login_succeeded"
    USER_LOGIN_FAILED = "user.login_failed"
    USER_PASSWORD_CHANGED = "user.password_changed"  # noqa: S105 - an action name
    USER_PASSWORD_CHANGE_FAILED = "user.password_change_failed"  # noqa: S105 - an action name
    USER_ACCOUNT_CLOSED = "user.account_closed"
    USER_ACCOUNT_CLOSE_FAILED = "user.account_close_failed"
    USER_LOGGED_OUT = "user.logged_out"
    SESSION_REVOKED = "session.revoked"
    TOKEN_REFRESHED = "token.refreshed"  # noqa: S105 - an action name
    TOKEN_REFRESH_FAILED = "token.refresh_failed"  # noqa: S105 - an action name
    REFRESH_TOKEN_REUSED = "token.reuse_detected"  # noqa: S105 - an action name
    USER_LOGIN_SECOND_FACTOR_REQUIRED = "user.login_second_factor_required"
    SESSIONS_OTHERS_REVOKED = "session.others_revoked"
    MFA_CHALLENGE_FAILED = "mfa.challenge_failed"
    MFA_RECOVERY_CODE_USED = "mfa.recovery_code_used"
    MFA_TOTP_ENROLMENT_STARTED = "mfa.totp_enrolment_started"
    MFA_TOTP_ENROLMENT_FAILED = "mfa.totp_enrolment_failed"
    MFA_TOTP_ENABLED = "mfa.totp_enabled"
    MFA_TOTP_ENABLE_FAILED = "mfa.totp_enable_failed"
    MFA_TOTP_DISABLED = "mfa.totp_disabled"
    MFA_TOTP_DISABLE_FAILED = "mfa.totp_disable_failed"
    MFA_RECOVERY_CODES_REGENERATED = "mfa.recovery_codes_regenerated"
    MFA_RECOVERY_CODES_REGENERATE_FAILED = "mfa.recovery_codes_regenerate_failed"
    PERSONAL_TOKEN_CREATED = "token.personal_created"  # noqa: S105 - an action name
    PERSONAL_TOKEN_REVOKED = "token.personal_revoked"  # noqa: S105 - an action name
    REVOKED_TOKEN_USED = "token.revoked_used"  # noqa: S105 - an action name
    ADMIN_USER_CREATED = "admin.user_created"
    ADMIN_USER_UPDATED = "admin.user_updated"
    ADMIN_USER_DELETED = "admin.user_deleted"
    ADMIN_USERS_LISTED = "admin.users_listed"
    ADMIN_ACCESS_DENIED = "admin.access_denied"
    ADMIN_MFA_RESET = "admin.mfa_reset"
    CONNECTION_CREATED = "connection.created"
    CONNECTION_DISCONNECTED = "connection.disconnected"
    CONNECTION_CLAIM_FAILED = "connection.claim_failed"
    SYNC_SUCCEEDED = "sync.succeeded"
    SYNC_FAILED = "sync.failed"
    CREDENTIALS_ROTATED = "credentials.rotated"
    WEBHOOK_CREATED = "webhook.created"
    WEBHOOK_UPDATED = "webhook.updated"
    WEBHOOK_DELETED = "webhook.deleted"
    IMPORT_SUCCEEDED = "import.succeeded"
    IMPORT_FAILED = "import.failed"
    ACCOUNT_DELETED = "account.deleted"
    TRANSACTION_TRANSFER_LINKED = "transaction.transfer_linked"
    TRANSACTION_TRANSFER_UNLINKED = "transaction.transfer_unlinked"
    FINANCIAL_DATA_READ = "financial_data.read"


class AuditOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DENIED = "denied"


class ResourceType(StrEnum):
    USER = "user"
    SESSION = "session"
    PROVIDER_CONNECTION = "provider_connection"
    ACCOUNT = "account"
    TRANSACTION = "transaction"
    HOLDING = "holding"
    SECURITY = "security"
    INVESTMENT_TRANSACTION = "investment_transaction"
    WEBHOOK_ENDPOINT = "webhook_endpoint"
    PERSONAL_TOKEN = "personal_token"  # noqa: S105 - a resource name


# Key fragments that must never reach the audit trail, whatever a caller passes.
_SECRET_KEY_FRAGMENTS = (
    "password",
    "token",
    "secret",
    "cookie",
    "authorization",
    "api_key",
    "access_url",
    "claim_url",
    "credential",
)


def _is_secret_key(key: str) -> bool:
    folded = key.lower()
    return any(fragment in folded for fragment in _SECRET_KEY_FRAGMENTS)


def scrub_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Drop secrets (recursively, lists included) so no password or token is ever audited."""
    return {key: _scrub(value) for key, value in metadata.items() if not _is_secret_key(key)}


def _scrub(value: Any) -> Any:
    if isinstance(value, Mapping):
        return scrub_metadata(value)
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditContext:
    """Where a request came from and on whose behalf; passed into every use case."""

    actor_id: UUID | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    trace_id: str | None = None
    # The personal access token the actor used, if any (recorded as ``pat_id``).
    personal_token_id: UUID | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One immutable audit record."""

    action: AuditAction
    outcome: AuditOutcome
    resource_type: ResourceType
    resource_id: UUID | None = None
    actor_id: UUID | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    trace_id: str | None = None
    reason: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    id: UUID = field(default_factory=new_id)
    occurred_at: datetime = field(default_factory=utcnow)

    @classmethod
    def of(
        cls,
        context: AuditContext,
        *,
        action: AuditAction,
        outcome: AuditOutcome,
        resource_type: ResourceType,
        resource_id: UUID | None = None,
        reason: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        actor_id: UUID | None = None,
    ) -> AuditEntry:
        """An entry filled from the request context, metadata scrubbed of secrets."""
        details = scrub_metadata(metadata or {})
        if context.personal_token_id is not None:
            details["pat_id"] = str(context.personal_token_id)
        return cls(
            action=action,
            outcome=outcome,
            resource_type=resource_type,
            resource_id=resource_id,
            actor_id=actor_id if actor_id is not None else context.actor_id,
            ip_address=context.ip_address,
            user_agent=context.user_agent,
            trace_id=context.trace_id,
            reason=reason,
            metadata=details,
        )
