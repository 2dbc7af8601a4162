"""One gathered OFX aggregate's leaves, read by name, with the element named in every error.

Investment aggregates wrap their common part (``BUYSTOCK`` holds ``INVBUY``, which holds
``INVTRAN``): a leaf is looked up under its own path first, then under each wrapper, so
``UNITS`` finds ``INVBUY/UNITS`` and ``INVTRAN/FITID`` finds ``INVBUY/INVTRAN/FITID``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import NoReturn

from dashtam.domain.investments.entities import HeldIn, SecurityId
from dashtam.infrastructure.importers.ofx_fields import (
    amount,
    free_text,
    posting_date,
    quantity,
    timestamp,
)
from dashtam.infrastructure.importers.safety import check_identifier, reject

_HELD_IN = {"CASH": HeldIn.CASH, "MARGIN": HeldIn.MARGIN, "SHORT": HeldIn.SHORT}
_WRAPPERS = ("INVBUY/", "INVSELL/", "INVPOS/")


class Aggregate:
    __slots__ = ("_fields", "where")

    def __init__(self, fields: dict[str, str], where: str) -> None:
        self._fields = fields
        self.where = where

    def text(self, name: str) -> str | None:
        """The leaf's text; None when absent or empty."""
        value = self._fields.get(name)
        if value is None:
            for wrapper in _WRAPPERS:
                value = self._fields.get(wrapper + name)
                if value is not None:
                    break
        return value or None

    def code(self, name: str) -> str:
        """An enumerated value (``BUYTYPE``, ``INCOMETYPE``): upper case, "" when absent."""
        return (self.text(name) or "").strip().upper()

    def free(self, name: str, limit: int) -> str | None:
        return free_text(self.text(name), limit)

    def missing(self, name: str, what: str) -> NoReturn:
        reject(f"{name} ({what}) is missing", location=self.where)
        raise AssertionError("unreachable")

    def money(self, name: str, *, required: str | None = None) -> Decimal | None:
        """A cash amount (4 decimals at most); ``required`` says what it is when it must be."""
        text = self.text(name)
        if text is None:
            return None if required is None else self.missing(name, required)
        return amount(text, f"{self.where} {name}")

    def units(self, name: str, *, required: str | None = None) -> Decimal | None:
        """Units or a unit price: up to 10 decimals."""
        text = self.text(name)
        if text is None:
            return None if required is None else self.missing(name, required)
        return quantity(text, f"{self.where} {name}")

    def day(self, name: str, *, required: str | None = None) -> date | None:
        """The calendar day as written, like a bank's ``DTPOSTED``."""
        text = self.text(name)
        if text is None:
            return None if required is None else self.missing(name, required)
        return posting_date(text, f"{self.where} {name}")

    def need_units(self, name: str, what: str) -> Decimal:
        value = self.units(name, required=what)
        assert value is not None
        return value

    def need_money(self, name: str, what: str) -> Decimal:
        value = self.money(name, required=what)
        assert value is not None
        return value

    def need_day(self, name: str, what: str) -> date:
        value = self.day(name, required=what)
        assert value is not None
        return value

    def moment(self, name: str) -> datetime | None:
        text = self.text(name)
        return None if text is None else timestamp(text, f"{self.where} {name}")

    def held_in(self, name: str) -> HeldIn | None:
        """A sub-account (``SUBACCTSEC``, ``HELDINACCT``...); one the file invents is OTHER."""
        value = self.code(name)
        return _HELD_IN.get(value, HeldIn.OTHER) if value else None

    def security(self, prefix: str = "SECID", *, required: bool) -> SecurityId | None:
        """``SECID``: the id as written, its type (CUSIP, ISIN, TICKER or the file's own)."""
        unique_id = self.text(f"{prefix}/UNIQUEID")
        id_type = self.code(f"{prefix}/UNIQUEIDTYPE")
        if unique_id is None and not id_type:
            return self.missing(prefix, "the security") if required else None
        if unique_id is None:
            self.missing(f"{prefix}/UNIQUEID", "the security's id")
        if not id_type:
            self.missing(f"{prefix}/UNIQUEIDTYPE", "the kind of security id")
        unique_id = unique_id.strip()
        check_identifier(unique_id, location=f"{self.where} {prefix}/UNIQUEID", field="UNIQUEID")
        check_identifier(id_type, location=f"{self.where} {prefix}/UNIQUEIDTYPE", field="type")
        if len(unique_id) > 64 or len(id_type) > 32:
            reject("the security id is too long", location=f"{self.where} {prefix}")
        return SecurityId(unique_id, id_type)
