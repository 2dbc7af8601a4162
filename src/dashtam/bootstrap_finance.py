"""The composition root's financial-data part: connections, imports, queries.

A mixin of ``Container`` (its methods take the container as ``self``), kept apart so that the
root stays one screen per idea.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from dashtam.application.finance.handlers import (
        CreateConnectionHandler,
        DeleteAccountHandler,
        DisconnectConnectionHandler,
    )
    from dashtam.application.finance.imports import ImportStatementHandler
    from dashtam.application.finance.queries import FinanceQueries
    from dashtam.application.investments.queries import InvestmentQueries
    from dashtam.application.reads import ReadUnitOfWork
    from dashtam.application.unit_of_work import UnitOfWork
    from dashtam.core.config import Settings
    from dashtam.domain.imports.statement import ImportLimits, ParserFactory
    from dashtam.domain.protocols.logger import LoggerProtocol
    from dashtam.infrastructure.audit.read_buffer import BufferedReadAuditLog


class _Root(Protocol):
    """What these factories use of the container."""

    settings: Settings

    def logger(self, name: str = ...) -> LoggerProtocol: ...

    def unit_of_work(self) -> UnitOfWork: ...

    def read_unit_of_work(self) -> ReadUnitOfWork: ...

    @property
    def read_audit_log(self) -> BufferedReadAuditLog: ...

    def statement_parsers(self) -> ParserFactory: ...

    def import_limits(self) -> ImportLimits: ...


class FinanceWiring:
    def create_connection_handler(self: _Root) -> CreateConnectionHandler:
        from dashtam.application.finance.handlers import CreateConnectionHandler

        return CreateConnectionHandler(uow_factory=self.unit_of_work)

    def disconnect_connection_handler(self: _Root) -> DisconnectConnectionHandler:
        from dashtam.application.finance.handlers import DisconnectConnectionHandler

        return DisconnectConnectionHandler(uow_factory=self.unit_of_work)

    def delete_account_handler(self: _Root) -> DeleteAccountHandler:
        from dashtam.application.finance.handlers import DeleteAccountHandler

        return DeleteAccountHandler(uow_factory=self.unit_of_work)

    def statement_parsers(self: _Root) -> ParserFactory:
        from dashtam.infrastructure.importers.factory import StatementParsers

        return StatementParsers()

    def import_limits(self: _Root) -> ImportLimits:
        from dashtam.domain.imports.statement import ImportLimits

        return ImportLimits(
            max_bytes=self.settings.import_max_bytes,
            max_transactions=self.settings.import_max_rows,
        )

    def import_statement_handler(self: _Root) -> ImportStatementHandler:
        from dashtam.application.finance.imports import ImportStatementHandler

        return ImportStatementHandler(
            uow_factory=self.unit_of_work,
            parsers=self.statement_parsers(),
            logger=self.logger("dashtam.imports"),
            limits=self.import_limits(),
        )

    def finance_queries(self: _Root) -> FinanceQueries:
        from dashtam.application.finance.queries import FinanceQueries

        return FinanceQueries(uow_factory=self.read_unit_of_work, audit_log=self.read_audit_log)

    def investment_queries(self: _Root) -> InvestmentQueries:
        from dashtam.application.investments.queries import InvestmentQueries

        return InvestmentQueries(uow_factory=self.read_unit_of_work, audit_log=self.read_audit_log)
