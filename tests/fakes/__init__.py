"""In-memory fakes of the ports; each one passes the contract suite in ``tests/contracts``."""

from tests.fakes.audit import FakeAuditTrail
from tests.fakes.auth import (
    FakeLoginAttemptRepository,
    FakeRefreshTokenRepository,
    FakeSessionRepository,
)
from tests.fakes.clock import FakeClock
from tests.fakes.faults import Faults
from tests.fakes.finance import (
    FakeAccountRepository,
    FakeConnectionRepository,
    FakeTransactionRepository,
)
from tests.fakes.finance_tables import FinanceTables
from tests.fakes.logger import LogRecord, RecordingLogger
from tests.fakes.security import FakePasswordHasher
from tests.fakes.unit_of_work import (
    FakeRepositories,
    FakeStore,
    FakeUnitOfWork,
)
from tests.fakes.users import FakeUserRepository

__all__ = [
    "FakeAccountRepository",
    "FakeAuditTrail",
    "FakeClock",
    "FakeConnectionRepository",
    "FakeLoginAttemptRepository",
    "FakePasswordHasher",
    "FakeRefreshTokenRepository",
    "FakeRepositories",
    "FakeSessionRepository",
    "FakeStore",
    "FakeTransactionRepository",
    "FakeUnitOfWork",
    "FakeUserRepository",
    "Faults",
    "FinanceTables",
    "LogRecord",
    "RecordingLogger",
]
