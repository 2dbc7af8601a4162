"""In-memory fakes of the ports; each one passes the contract suite in ``tests/contracts``."""

from tests.fakes.audit import FakeAuditTrail
from tests.fakes.faults import Faults
from tests.fakes.logger import LogRecord, RecordingLogger
from tests.fakes.security import FakePasswordHasher
from tests.fakes.unit_of_work import FakeStore, FakeUnitOfWork, fake_uow_factory
from tests.fakes.users import FakeUserRepository

__all__ = [
    "FakeAuditTrail",
    "FakePasswordHasher",
    "FakeStore",
    "FakeUnitOfWork",
    "FakeUserRepository",
    "Faults",
    "LogRecord",
    "RecordingLogger",
    "fake_uow_factory",
]
