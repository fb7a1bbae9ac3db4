"""Pricing, ECL, PSI and early-warning formulas on worked examples; covenant edges."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from tenor.core.errors import InvalidArgumentError
from tenor.core.money import Money
from tenor.risk.ecl import expected_credit_loss
from tenor.risk.ews import (
    Covenant,
    Severity,
    StatementError,
    UnbalancedStatementError,
    Zone,
    altman_z2,
    check_covenants,
    check_trends,
    indicators,
    statement_from_document,
    zone,
)
from tenor.risk.pricing import pd_from_score, price
from tenor.risk.registry import PSI_ALERT, psi
from tenor.risk.statements import read_statements

# --- pricing ---------------------------------------------------------------------------------


def test_score_scale_gives_the_base_odds_and_doubles_them() -> None:
    assert pd_from_score(600) == Decimal(1) / 51
    assert pd_from_score(620) == Decimal(1) / 101
    assert pd_from_score(580) == Decimal(1) / 26


def test_the_rate_is_the_sum_of_its_components() -> None:
    """Score 600, 10,000 CNY: PD 1/51, EL 0.45/51 = 0.88%; opex 1% + 200/10,000 = 3%."""
    result = price(score=600, term_months=12, amount=Money.of("10000", "CNY"))
    document = result.document()
    assert document["components"] == {
        "funding_cost": "0.0300",
        "expected_loss": "0.0088",
        "operating_cost": "0.0300",
        "capital_charge": "0.0120",
        "margin": "0.0200",
    }
    assert document["rate"] == "0.1008"


@pytest.mark.parametrize(
    ("score", "term", "amount", "message"),
    [
        (600, 0, "1000", "--term"),
        (-1, 12, "1000", "--score"),
    ],
)
def test_pricing_refuses_bad_input(score: int, term: int, amount: str, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        price(score=score, term_months=term, amount=Money.of(amount, "CNY"))


# --- ECL -------------------------------------------------------------------------------------


def _ecl(**changes: Any) -> Money:
    terms: dict[str, Any] = {
        "stage": 1,
        "pd_12m": Decimal("0.05"),
        "lgd": Decimal("0.5"),
        "principal": Money.of("0", "CNY"),
        "due": Money.of("1000", "CNY"),
        "annual_rate": Decimal("0"),
        "remaining_months": 24,
    }
    terms.update(changes)
    return expected_credit_loss(**terms)


def test_stage1_is_twelve_months_of_pd_times_lgd_times_ead() -> None:
    """A flat exposure of 1,000, undiscounted: 5% x 50% x 1,000 = 25.00."""
    assert _ecl() == Money.of("25.00", "CNY")


def test_stage2_is_lifetime_and_stage3_is_default() -> None:
    """Two years flat: 1 - 0.95^2 = 9.75% x 50% x 1,000 = 48.75; impaired: 50% x 1,000."""
    assert _ecl(stage=2) == Money.of("48.75", "CNY")
    assert _ecl(stage=3) == Money.of("500.00", "CNY")


def test_ecl_is_discounted_and_amortising_exposure_costs_less() -> None:
    undiscounted = _ecl(stage=2)
    assert _ecl(stage=2, annual_rate=Decimal("0.10")) < undiscounted
    amortising = _ecl(stage=2, principal=Money.of("1000", "CNY"), due=Money.of("0", "CNY"))
    assert amortising < undiscounted


def test_ecl_refuses_an_unknown_stage() -> None:
    with pytest.raises(InvalidArgumentError, match="stage"):
        _ecl(stage=4)


# --- PSI -------------------------------------------------------------------------------------


def test_psi_on_a_known_shift() -> None:
    """(0.3-0.5) ln(0.3/0.5) + (0.7-0.5) ln(0.7/0.5) = 0.1695."""
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0
    assert psi([0.5, 0.5], [0.3, 0.7]) == pytest.approx(0.169459, abs=1e-6)
    assert psi([0.5, 0.5], [0.1, 0.9]) > PSI_ALERT


# --- statements and indicators ---------------------------------------------------------------

WORKED: dict[str, Any] = {
    "period_end": "2026-03-31",
    "period_months": 3,
    "currency": "CNY",
    "balance_sheet": {
        "cash": 200,
        "receivables": 300,
        "inventory": 250,
        "current_assets": 1000,
        "total_assets": 4000,
        "current_liabilities": 800,
        "total_liabilities": 2500,
        "total_debt": 2000,
        "equity": 1500,
        "retained_earnings": 600,
    },
    "income_statement": {
        "revenue": 1825,
        "cost_of_sales": 1277.5,
        "ebit": 150,
        "depreciation": 50,
        "interest_expense": 60,
        "net_income": 73,
    },
    "cash_flow": {"operating_cash_flow": 120, "debt_service": 160},
}


def _statement(**changes: Any) -> Any:
    document = json.loads(json.dumps(WORKED))
    for key, value in changes.items():
        for section in ("balance_sheet", "income_statement", "cash_flow"):
            if key in document[section]:
                document[section][key] = value
        if key in document:
            document[key] = value
    return statement_from_document(document)


def test_indicators_on_a_worked_example() -> None:
    values = indicators(_statement())
    assert values == {
        "dscr": Decimal("1.2500"),  # (150 + 50) / 160
        "interest_coverage": Decimal("2.5000"),  # 150 / 60
        "current_ratio": Decimal("1.2500"),  # 1000 / 800
        "quick_ratio": Decimal("0.9375"),  # (1000 - 250) / 800
        "debt_to_ebitda": Decimal("2.5000"),  # 2000 / (200 x 4)
        "gross_margin": Decimal("0.3000"),  # (1825 - 1277.5) / 1825
        "net_margin": Decimal("0.0400"),  # 73 / 1825
        "receivable_days": Decimal("15.0000"),  # 300 x 91.25 days / 1825
        "operating_cash_flow": Decimal("120"),
        "altman_z2": Decimal("2.4550"),
    }


def test_altman_z2_worked_example_and_zones() -> None:
    """X1 = 200/4000, X2 = 600/4000, X3 = 600/4000 (EBIT x 4), X4 = 1500/2500:
    6.56 x 0.05 + 3.26 x 0.15 + 6.72 x 0.15 + 1.05 x 0.6 = 0.328 + 0.489 + 1.008 + 0.63."""
    assert altman_z2(_statement()) == Decimal("2.4550")
    assert zone(Decimal("2.4550")) is Zone.GREY
    assert zone(Decimal("1.0999")) is Zone.DISTRESS
    assert zone(Decimal("1.1")) is Zone.GREY
    assert zone(Decimal("2.6")) is Zone.GREY
    assert zone(Decimal("2.6001")) is Zone.SAFE


def test_a_balance_sheet_that_does_not_balance_is_refused_with_the_difference() -> None:
    with pytest.raises(UnbalancedStatementError, match=r"a difference of 100(\.00)? CNY"):
        _statement(total_assets=4100)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"revenue": "abc"}, "revenue must be a number"),
        ({"revenue": -1}, "revenue must not be negative"),
        ({"cash": "1.001"}, "more than 2 decimal places"),
        ({"period_end": "2026-02-30"}, "period_end"),
        ({"currency": "XYZ"}, "currency"),
        ({"current_assets": 5000}, "current_assets exceed total_assets"),
    ],
)
def test_malformed_statements_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(StatementError, match=message):
        _statement(**changes)


@pytest.mark.parametrize(
    ("debt_service", "expected"),
    [
        ("200", None),  # DSCR 1.00 < 1.20: breach
        ("166.68", Severity.BREACH),  # 1.1999
        ("166.67", Severity.WARNING),  # 1.19998 is reported, and tested, as 1.2000
        ("166.66", Severity.WARNING),  # 1.2000 exactly: holds, but within 5%
        ("158.74", Severity.WARNING),  # 1.2599: within 5% of 1.20
        ("158.73", "none"),  # 1.2600: clear
    ],
)
def test_covenant_edges(debt_service: str, expected: Severity | str | None) -> None:
    signals = check_covenants(
        _statement(debt_service=debt_service), [Covenant("dscr", minimum=Decimal("1.20"))]
    )
    if expected is None:
        assert [signal.severity for signal in signals] == [Severity.BREACH]
    elif expected == "none":
        assert signals == []
    else:
        assert [signal.severity for signal in signals] == [expected]


def test_a_maximum_covenant_and_an_uncomputable_indicator() -> None:
    at_most = [Covenant("debt_to_ebitda", maximum=Decimal("2.5"))]
    assert [s.severity for s in check_covenants(_statement(), at_most)] == [Severity.WARNING]
    assert [s.severity for s in check_covenants(_statement(total_debt=2004), at_most)] == [
        Severity.BREACH
    ]
    no_debt_service = check_covenants(
        _statement(debt_service=0), [Covenant("dscr", minimum=Decimal(1))]
    )
    assert "not computable" in no_debt_service[0].detail
    with pytest.raises(InvalidArgumentError):
        Covenant("dscr")


def _quarter(end: str, flow: int, net_income: int = 73) -> Any:
    return _statement(period_end=end, operating_cash_flow=flow, net_income=net_income)


def test_trend_rules() -> None:
    falling = [
        _quarter("2025-06-30", 130),
        _quarter("2025-09-30", 120),
        _quarter("2025-12-31", 110),
        _quarter("2026-03-31", 100),
    ]
    assert [s.code for s in check_trends(falling)] == ["trend:operating_cash_flow"]
    assert check_trends(falling[1:]) == []  # only two falls so far
    flat = [*falling[:2], _quarter("2025-12-31", 125), falling[3]]
    assert check_trends(flat) == []
    margins = [_quarter("2025-03-31", 100, net_income=200), _quarter("2026-03-31", 100, 73)]
    # 200/1825 = 10.96% a year ago, 4.00% now: down 6.96 points.
    assert [s.code for s in check_trends(margins)] == ["trend:net_margin"]


def test_distress_zone_is_a_warning() -> None:
    distressed = _statement(retained_earnings=-900, equity=100, total_liabilities=3900)
    assert "altman:distress" in [s.code for s in check_trends([distressed])]


# --- files -----------------------------------------------------------------------------------


def _flat() -> dict[str, Any]:
    flat = {key: WORKED[key] for key in ("period_end", "period_months", "currency")}
    for section in ("balance_sheet", "income_statement", "cash_flow"):
        flat.update(WORKED[section])
    return flat


def test_statements_read_from_json_csv_and_excel(tmp_path: Path) -> None:
    flat = _flat()
    (tmp_path / "s.json").write_text(json.dumps([WORKED]))
    header = list(flat)
    (tmp_path / "s.csv").write_text(
        ",".join(header) + "\n" + ",".join(str(flat[key]) for key in header) + "\n"
    )
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    sheet.append([dt.date(2026, 3, 31) if key == "period_end" else flat[key] for key in header])
    book.save(tmp_path / "s.xlsx")
    expected = _statement()
    for name in ("s.json", "s.csv", "s.xlsx"):
        assert read_statements(tmp_path / name) == [expected], name


def test_a_bad_row_refuses_the_file_by_number(tmp_path: Path) -> None:
    bad = json.loads(json.dumps(WORKED))
    bad["balance_sheet"]["equity"] = 1400
    (tmp_path / "s.json").write_text(json.dumps([WORKED, bad]))
    with pytest.raises(UnbalancedStatementError, match=r"s.json statement 2: .*difference of 100"):
        read_statements(tmp_path / "s.json")
