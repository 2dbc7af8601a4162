"""An investment statement's trades (``INVTRANLIST`` aggregates) and positions (``INVPOSLIST``).

What the domain has no field for but a reader needs (buy to cover, sell short, a split's
ratio, a journal's sub-accounts) is added to the memo, after the file's own memo.
"""

from __future__ import annotations

from decimal import Decimal

from dashtam.domain.imports.investments import ParsedInvestmentTransaction, ParsedPosition
from dashtam.domain.investments.entities import (
    HeldIn,
    IncomeType,
    InvestmentKind,
    PositionType,
)
from dashtam.infrastructure.importers.ofx_aggregate import Aggregate
from dashtam.infrastructure.importers.ofx_fields import digest
from dashtam.infrastructure.importers.safety import check_identifier

Kind = InvestmentKind
BUYS = frozenset({"BUYSTOCK", "BUYMF", "BUYDEBT", "BUYOPT", "BUYOTHER"})
SELLS = frozenset({"SELLSTOCK", "SELLMF", "SELLDEBT", "SELLOPT", "SELLOTHER"})
_MONEY_PLACES = Decimal("0.0001")  # money is kept to 4 places
_OTHERS = {
    "INCOME": Kind.INCOME,
    "REINVEST": Kind.REINVEST,
    "SPLIT": Kind.SPLIT,
    "RETOFCAP": Kind.RETURN_OF_CAPITAL,
    "MARGININTEREST": Kind.MARGIN_INTEREST,
    "JRNLFUND": Kind.JOURNAL_CASH,
    "JRNLSEC": Kind.JOURNAL_SECURITY,
    "INVEXPENSE": Kind.EXPENSE,
}
# Every aggregate OFX 2.2 allows in INVTRANLIST but INVBANKTRAN (read as a bank STMTTRN).
TRADE_TAGS = BUYS | SELLS | frozenset(_OTHERS) | {"TRANSFER", "CLOSUREOPT"}
_OPTION_ACTIONS = {
    "EXERCISE": Kind.OPTION_EXERCISE,
    "ASSIGN": Kind.OPTION_ASSIGN,
    "EXPIRE": Kind.OPTION_EXPIRE,
}
_INCOME_TYPES = {
    "DIV": IncomeType.DIVIDEND,
    "INTEREST": IncomeType.INTEREST,
    "CGLONG": IncomeType.CAPITAL_GAINS_LONG,
    "CGSHORT": IncomeType.CAPITAL_GAINS_SHORT,
    "MISC": IncomeType.MISC,
}
# Which aggregates cannot be read without these, as the specification requires them; the
# others are read when present (INCOME without SECID is how some brokers send cash interest).
_MOVES_UNITS = BUYS | SELLS | {"REINVEST", "TRANSFER", "JRNLSEC", "CLOSUREOPT"}
_NEEDS_SECURITY = _MOVES_UNITS | {"SPLIT"}
_NEEDS_TOTAL = BUYS | SELLS | {"INCOME", "REINVEST", "RETOFCAP", "MARGININTEREST", "JRNLFUND"}
# What tells two trades apart when their FITIDs do not. Derived ids (no FITID) hash these:
# changing the list changes those ids, and a re-import would then add the trades again.
_CONTENT = (
    *("trade_date", "settle_date", "security_id", "units", "unit_price", "total"),
    *("commission", "fees", "taxes", "load", "income_type", "held_in", "cash_held_in"),
    *("source_401k", "memo"),
)
_NOTES = {
    "BUYTOCOVER": "buy to cover",
    "SELLSHORT": "sell short",
    "BUYTOOPEN": "buy to open",
    "BUYTOCLOSE": "buy to close",
    "SELLTOOPEN": "sell to open",
    "SELLTOCLOSE": "sell to close",
    "CALL": "called",
    "MATURITY": "matured",
}


def investment_transaction(
    tag: str, fields: dict[str, str], where: str
) -> tuple[ParsedInvestmentTransaction, bytes]:
    """The trade (its id still the file's FITID, or empty) and a digest of its content."""
    read = Aggregate(fields, where)
    fitid = read.text("INVTRAN/FITID") or ""
    check_identifier(fitid, location=f"{where} INVTRAN/FITID", field="FITID")
    kind = _kind(tag, read)
    security = read.security(required=tag in _NEEDS_SECURITY)
    total = read.money("TOTAL", required="total" if tag in _NEEDS_TOTAL else None)
    if total is None:  # a split pays its fractional share in cash, if anything
        total = read.money("FRACCASH") or Decimal(0)
    held_in, cash_held_in = _sub_accounts(tag, read)
    transaction = ParsedInvestmentTransaction(
        provider_transaction_id=fitid,
        kind=kind,
        trade_date=read.need_day("INVTRAN/DTTRADE", "trade date"),
        settle_date=read.day("INVTRAN/DTSETTLE"),
        total=total,
        security_id=security,
        units=_units(tag, kind, read),
        unit_price=read.units("UNITPRICE"),
        commission=read.money("COMMISSION"),
        fees=read.money("FEES"),
        # Income states the tax withheld from it as WITHHOLDING; trades have TAXES.
        taxes=read.money("TAXES") if read.text("TAXES") else read.money("WITHHOLDING"),
        load=read.money("LOAD"),
        income_type=_income_type(tag, read),
        held_in=held_in,
        cash_held_in=cash_held_in,
        source_401k=read.code("INV401KSOURCE")[:20] or None,
        memo=_memo(tag, read),
    )
    content = digest(tag, *(getattr(transaction, name) for name in _CONTENT))
    return transaction, content


def _kind(tag: str, read: Aggregate) -> InvestmentKind:
    if tag in BUYS:
        return Kind.BUY
    if tag in SELLS:
        return Kind.SELL
    if tag == "TRANSFER":
        action = read.code("TFERACTION")
        if action in ("IN", "OUT"):
            return Kind.TRANSFER_IN if action == "IN" else Kind.TRANSFER_OUT
        units = read.units("UNITS")
        return Kind.TRANSFER_OUT if units is not None and units < 0 else Kind.TRANSFER_IN
    if tag == "CLOSUREOPT":
        return _OPTION_ACTIONS.get(read.code("OPTACTION"), Kind.OTHER)
    return _OTHERS.get(tag, Kind.OTHER)


def _units(tag: str, kind: InvestmentKind, read: Aggregate) -> Decimal | None:
    if tag == "SPLIT":
        new = read.need_units("NEWUNITS", "units after the split")
        return new - read.need_units("OLDUNITS", "units before the split")
    units = read.units("UNITS", required="units" if tag in _MOVES_UNITS else None)
    if units is None:
        return None
    # The specification makes units negative when they leave the account; some brokers write
    # every quantity positive. Buys add units and sells remove them whatever the sign says.
    if kind is Kind.BUY:
        return abs(units)
    if kind is Kind.SELL:
        return -abs(units)
    if tag == "TRANSFER" and read.code("POSTYPE") != "SHORT":
        return abs(units) if kind is Kind.TRANSFER_IN else -abs(units)
    return units


def _income_type(tag: str, read: Aggregate) -> IncomeType | None:
    if tag not in ("INCOME", "REINVEST"):
        return None
    return _INCOME_TYPES.get(read.code("INCOMETYPE"), IncomeType.MISC)


def _sub_accounts(tag: str, read: Aggregate) -> tuple[HeldIn | None, HeldIn | None]:
    """Where the security sits, and where its cash goes (a journal: where it ends up)."""
    if tag == "JRNLFUND":
        return None, read.held_in("SUBACCTTO")
    if tag == "JRNLSEC":
        return read.held_in("SUBACCTTO"), None
    return read.held_in("SUBACCTSEC"), read.held_in("SUBACCTFUND")


def _memo(tag: str, read: Aggregate) -> str | None:
    notes = [read.free("INVTRAN/MEMO", 255) or ""]
    for name in ("BUYTYPE", "SELLTYPE", "OPTBUYTYPE", "OPTSELLTYPE", "SELLREASON"):
        notes.append(_NOTES.get(read.code(name), ""))
    if tag == "SPLIT" and read.text("NUMERATOR") and read.text("DENOMINATOR"):
        numerator = read.units("NUMERATOR") or Decimal(0)
        denominator = read.units("DENOMINATOR") or Decimal(0)
        notes.append(f"split {numerator.normalize():f}:{denominator.normalize():f}")
    if tag in ("JRNLFUND", "JRNLSEC") and read.code("SUBACCTFROM"):
        notes.append(f"from {read.code('SUBACCTFROM')} to {read.code('SUBACCTTO') or '?'}")
    accrued = read.money("ACCRDINT")
    if accrued is not None:
        notes.append(f"accrued interest {accrued}")
    if tag not in TRADE_TAGS:
        notes.append(tag)  # an aggregate the specification does not define: say what it was
    return "; ".join(note for note in notes if note)[:500] or None


def position(fields: dict[str, str], where: str) -> ParsedPosition:
    """One ``POS*`` aggregate (its kind is the SECLIST's to say)."""
    read = Aggregate(fields, where)
    security = read.security(required=True)
    assert security is not None
    units = read.need_units("UNITS", "units")
    # OFX 2.1+ may state the average cost per unit; without it a position's cost is unknown.
    average_cost = read.units("AVGCOSTBASIS")
    return ParsedPosition(
        security_id=security,
        units=units,
        cost_basis=(
            None if average_cost is None else (abs(units) * average_cost).quantize(_MONEY_PLACES)
        ),
        unit_price=read.need_units("UNITPRICE", "unit price"),
        market_value=read.need_money("MKTVAL", "market value"),
        price_as_of=read.moment("DTPRICEASOF"),
        position_type=(
            PositionType.SHORT if read.code("POSTYPE") == "SHORT" else PositionType.LONG
        ),
        held_in=read.held_in("HELDINACCT") or HeldIn.CASH,
        memo=read.free("MEMO", 500),
    )
