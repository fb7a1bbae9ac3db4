"""Enterprise early warning: financial statements, indicators, Altman Z'', covenants, trends.

Pure functions over :class:`Statement` records (no I/O): a statement is validated when it is
built (:func:`statement_from_document`; a balance sheet that does not balance is refused with
the difference), :func:`indicators` computes the ratios a credit officer reads,
:func:`check_covenants` and :func:`check_trends` turn them into :class:`Signal` values.

Flows (revenue, EBIT, cash flow) cover the statement's period (``period_months``, 3 for a
quarter); ratios of a stock to a flow annualise the flow. A ratio whose denominator is zero is
``None``: not computable, never infinite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from itertools import pairwise
from typing import Any, Final

from tenor.core.errors import DomainError, InvalidArgumentError
from tenor.core.money import CURRENCY_EXPONENTS

#: Balance-sheet, income-statement and cash-flow lines, in major units of the currency.
BALANCE_SHEET: Final = (
    "cash",
    "receivables",
    "inventory",
    "current_assets",
    "total_assets",
    "current_liabilities",
    "total_liabilities",
    "total_debt",
    "equity",
    "retained_earnings",
)
INCOME_STATEMENT: Final = (
    "revenue",
    "cost_of_sales",
    "ebit",
    "depreciation",
    "interest_expense",
    "net_income",
)
CASH_FLOW: Final = ("operating_cash_flow", "debt_service")
FIGURES: Final = BALANCE_SHEET + INCOME_STATEMENT + CASH_FLOW

#: Lines that may be negative (losses, outflows); every other line is at least zero.
_SIGNED: Final = frozenset(
    {"equity", "retained_earnings", "ebit", "net_income", "operating_cash_flow"}
)
_PLACES: Final = Decimal("0.0001")


class UnbalancedStatementError(DomainError):
    """Total assets differ from total liabilities plus equity."""

    code = "statement_unbalanced"


class StatementError(InvalidArgumentError):
    """A statement with a missing, malformed or impossible figure."""

    code = "invalid_statement"


@dataclass(frozen=True, slots=True)
class Statement:
    """One period's financial statements of an enterprise borrower."""

    period_end: dt.date
    period_months: int
    currency: str
    figures: Mapping[str, Decimal]

    def __getitem__(self, line: str) -> Decimal:
        return self.figures[line]

    def document(self) -> dict[str, Any]:
        """The statement as JSON: figures as decimal strings."""
        return {
            "period_end": self.period_end.isoformat(),
            "period_months": self.period_months,
            "currency": self.currency,
            "figures": {line: str(self.figures[line]) for line in FIGURES},
        }


def _figure(raw: object, line: str, places: int) -> Decimal:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise StatementError(f"{line} is missing")
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        raise StatementError(f"{line} must be a number, got {raw!r}")
    try:
        # A float from a spreadsheet cell goes through its shortest repr, not its binary value.
        value = Decimal(repr(raw) if isinstance(raw, float) else str(raw).strip().replace(",", ""))
    except InvalidOperation:
        raise StatementError(f"{line} must be a number, got {raw!r}") from None
    if not value.is_finite():
        raise StatementError(f"{line} must be a finite number, got {raw!r}")
    if value != value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP):
        raise StatementError(f"{line} has more than {places} decimal places: {raw}")
    if value < 0 and line not in _SIGNED:
        raise StatementError(f"{line} must not be negative, got {raw}")
    return value


def statement_from_document(document: Mapping[str, Any]) -> Statement:
    """A validated statement from a flat or nested document (JSON, a CSV row, an Excel row).

    Refuses a missing or malformed figure, current assets above total assets, and a balance
    sheet whose total assets differ from total liabilities plus equity (with the difference).
    """
    flat: dict[str, Any] = {}
    for key, value in document.items():
        if isinstance(value, Mapping):
            flat.update(value)
        else:
            flat[str(key).strip().lower()] = value
    currency = str(flat.get("currency") or "").strip().upper()
    if currency not in CURRENCY_EXPONENTS:
        raise StatementError(f"currency must be an ISO 4217 code Tenor knows, got {currency!r}")
    try:
        period_end = dt.date.fromisoformat(str(flat.get("period_end", "")).strip()[:10])
    except ValueError:
        raise StatementError(
            f"period_end must be a date YYYY-MM-DD, got {flat.get('period_end')!r}"
        ) from None
    try:
        months = int(str(flat.get("period_months", 3)).strip().split(".")[0])
    except ValueError:
        raise StatementError("period_months must be 1, 3, 6 or 12") from None
    if months not in (1, 3, 6, 12):
        raise StatementError(f"period_months must be 1, 3, 6 or 12, got {months}")
    places = CURRENCY_EXPONENTS[currency]
    figures = {line: _figure(flat.get(line), line, places) for line in FIGURES}
    if figures["current_assets"] > figures["total_assets"]:
        raise StatementError("current_assets exceed total_assets")
    if figures["current_liabilities"] > figures["total_liabilities"]:
        raise StatementError("current_liabilities exceed total_liabilities")
    difference = figures["total_assets"] - figures["total_liabilities"] - figures["equity"]
    if difference != 0:
        raise UnbalancedStatementError(
            f"the balance sheet of {period_end} does not balance: total assets "
            f"{figures['total_assets']} {currency} against liabilities plus equity "
            f"{figures['total_liabilities'] + figures['equity']} {currency}, "
            f"a difference of {difference} {currency}"
        )
    return Statement(period_end, months, currency, figures)


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    if denominator == 0:
        return None
    return (numerator / denominator).quantize(_PLACES, ROUND_HALF_UP)


class Zone(StrEnum):
    """Altman Z'' zones."""

    DISTRESS = "distress"
    GREY = "grey"
    SAFE = "safe"


def altman_z2(statement: Statement) -> Decimal | None:
    """Altman Z'' = 6.56 X1 + 3.26 X2 + 6.72 X3 + 1.05 X4 (EBIT annualised).

    X1 working capital / total assets, X2 retained earnings / total assets, X3 EBIT / total
    assets, X4 book equity / total liabilities. None when total assets or liabilities are zero.
    """
    assets = statement["total_assets"]
    liabilities = statement["total_liabilities"]
    if assets == 0 or liabilities == 0:
        return None
    annual = Decimal(12) / statement.period_months
    x1 = (statement["current_assets"] - statement["current_liabilities"]) / assets
    x2 = statement["retained_earnings"] / assets
    x3 = statement["ebit"] * annual / assets
    x4 = statement["equity"] / liabilities
    z = Decimal("6.56") * x1 + Decimal("3.26") * x2 + Decimal("6.72") * x3 + Decimal("1.05") * x4
    return z.quantize(_PLACES, ROUND_HALF_UP)


def zone(z: Decimal) -> Zone:
    """Below 1.1 distress, 1.1 to 2.6 grey, above 2.6 safe."""
    if z < Decimal("1.1"):
        return Zone.DISTRESS
    if z > Decimal("2.6"):
        return Zone.SAFE
    return Zone.GREY


def indicators(statement: Statement) -> dict[str, Decimal | None]:
    """DSCR, interest coverage, current and quick ratios, debt to EBITDA, margins, receivable
    days and Altman Z'' of one statement (fractions, rounded to 4 places; None if undefined)."""
    s = statement
    ebitda = s["ebit"] + s["depreciation"]
    annual = Decimal(12) / s.period_months
    days = Decimal(365) * s.period_months / 12
    receivable_days = _ratio(s["receivables"] * days, s["revenue"])
    return {
        "dscr": _ratio(ebitda, s["debt_service"]),
        "interest_coverage": _ratio(s["ebit"], s["interest_expense"]),
        "current_ratio": _ratio(s["current_assets"], s["current_liabilities"]),
        "quick_ratio": _ratio(s["current_assets"] - s["inventory"], s["current_liabilities"]),
        "debt_to_ebitda": _ratio(s["total_debt"], ebitda * annual) if ebitda > 0 else None,
        "gross_margin": _ratio(s["revenue"] - s["cost_of_sales"], s["revenue"]),
        "net_margin": _ratio(s["net_income"], s["revenue"]),
        "receivable_days": None if receivable_days is None else receivable_days.quantize(_PLACES),
        "operating_cash_flow": s["operating_cash_flow"],
        "altman_z2": altman_z2(s),
    }


class Severity(StrEnum):
    """How serious a signal is: a breach opens a watchlist entry and moves the stage."""

    WARNING = "warning"
    BREACH = "breach"


@dataclass(frozen=True, slots=True)
class Signal:
    """An early warning: what fired, how serious, on which period, in words."""

    code: str
    severity: Severity
    period_end: dt.date
    detail: str


@dataclass(frozen=True, slots=True)
class Covenant:
    """A financial covenant: ``indicator`` at least (or at most) ``threshold``."""

    indicator: str
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    #: Within this share of the threshold a covenant still holds but warns.
    headroom: Decimal = Decimal("0.05")

    def __post_init__(self) -> None:
        if (self.minimum is None) == (self.maximum is None):
            raise InvalidArgumentError("a covenant needs exactly one of minimum and maximum")
        if self.indicator not in INDICATORS:
            known = ", ".join(INDICATORS)
            raise InvalidArgumentError(f"covenant indicator must be one of {known}")

    def document(self) -> dict[str, str | None]:
        """The covenant as JSON."""
        return {
            "indicator": self.indicator,
            "minimum": None if self.minimum is None else str(self.minimum),
            "maximum": None if self.maximum is None else str(self.maximum),
            "headroom": str(self.headroom),
        }


#: The longest threshold text a stored covenant keeps.
_THRESHOLD_LENGTH: Final = 32


def _threshold(name: str, raw: str | None) -> Decimal | None:
    if raw is None:
        return None
    text = raw.strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidArgumentError(f"{name} must be a decimal number, got {raw!r}") from None
    if not value.is_finite() or len(text) > _THRESHOLD_LENGTH or "e" in text.lower():
        raise InvalidArgumentError(
            f"{name} must be a plain decimal of at most {_THRESHOLD_LENGTH} characters"
        )
    return value


def covenant_from_text(
    indicator: str,
    *,
    minimum: str | None = None,
    maximum: str | None = None,
    headroom: str | None = None,
) -> Covenant:
    """A covenant from decimal texts (a command's options, a request's fields), validated:
    a known indicator, exactly one of minimum and maximum, a headroom from 0 up to 1."""
    low = _threshold("minimum", minimum)
    high = _threshold("maximum", maximum)
    room = _threshold("headroom", headroom)
    if room is not None and not Decimal(0) <= room < Decimal(1):
        raise InvalidArgumentError(f"headroom is a fraction from 0 up to 1, got {headroom}")
    extra = {} if room is None else {"headroom": room}
    return Covenant(indicator.strip().lower(), minimum=low, maximum=high, **extra)


INDICATORS: Final = (
    "dscr",
    "interest_coverage",
    "current_ratio",
    "quick_ratio",
    "debt_to_ebitda",
    "gross_margin",
    "net_margin",
    "receivable_days",
    "altman_z2",
)

#: The covenants a loan gets when none are set: DSCR at least 1.20, current ratio at least 1.0.
DEFAULT_COVENANTS: Final = (
    Covenant("dscr", minimum=Decimal("1.20")),
    Covenant("current_ratio", minimum=Decimal("1.0")),
)


def check_covenants(statement: Statement, covenants: Sequence[Covenant]) -> list[Signal]:
    """A breach for each covenant the statement fails (at the threshold holds), a warning for
    each it passes within its headroom; an indicator that cannot be computed is a breach.

    Indicators are tested as reported, rounded half-up to 4 places, as a compliance
    certificate states them.
    """
    values = indicators(statement)
    signals = []
    for covenant in covenants:
        value = values[covenant.indicator]
        bound = covenant.minimum if covenant.minimum is not None else covenant.maximum
        assert bound is not None
        word = "at least" if covenant.minimum is not None else "at most"
        rule = f"{covenant.indicator} {word} {bound}"
        code = f"covenant:{covenant.indicator}"
        if value is None:
            signals.append(
                Signal(code, Severity.BREACH, statement.period_end, f"{rule}: not computable")
            )
            continue
        if covenant.minimum is not None:
            failed = value < covenant.minimum
            close = value < covenant.minimum * (1 + covenant.headroom)
        else:
            assert covenant.maximum is not None
            failed = value > covenant.maximum
            close = value > covenant.maximum * (1 - covenant.headroom)
        if failed:
            signals.append(Signal(code, Severity.BREACH, statement.period_end, f"{rule}: {value}"))
        elif close:
            signals.append(
                Signal(code, Severity.WARNING, statement.period_end, f"{rule}: {value}, near")
            )
    return signals


def check_trends(statements: Sequence[Statement]) -> list[Signal]:
    """Trend rules over a borrower's statements (any order) as of the latest one.

    - operating cash flow down three periods running (four statements, each below the last);
    - net margin down more than 5 points on the statement a year earlier;
    - Altman Z'' in the distress zone.
    """
    ordered = sorted(statements, key=lambda item: item.period_end)
    if not ordered:
        return []
    latest = ordered[-1]
    signals = []
    last4 = ordered[-4:]
    flows = [item["operating_cash_flow"] for item in last4]
    if len(flows) == 4 and all(later < earlier for earlier, later in pairwise(flows)):
        signals.append(
            Signal(
                "trend:operating_cash_flow",
                Severity.WARNING,
                latest.period_end,
                "operating cash flow down three periods running: "
                + " > ".join(str(value) for value in flows),
            )
        )
    year_ago = latest.period_end.replace(year=latest.period_end.year - 1)
    earlier = [
        item for item in ordered if abs((item.period_end - year_ago).days) <= 16
    ]  # the same quarter end a year before, give or take month-end lengths
    if earlier:
        now = indicators(latest)["net_margin"]
        then = indicators(earlier[-1])["net_margin"]
        if now is not None and then is not None and then - now > Decimal("0.05"):
            signals.append(
                Signal(
                    "trend:net_margin",
                    Severity.WARNING,
                    latest.period_end,
                    f"net margin down {((then - now) * 100).normalize()} points on a year ago "
                    f"({then} to {now})",
                )
            )
    z = altman_z2(latest)
    if z is not None and zone(z) is Zone.DISTRESS:
        signals.append(
            Signal("altman:distress", Severity.WARNING, latest.period_end, f"Altman Z'' {z}")
        )
    return signals
