"""``tenor schedule`` end to end: the installed command, run as a user or a tool runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

TENOR = Path(sys.executable).parent / "tenor"

FINERACT_LOAN = [
    "--principal", "5000",
    "--currency", "USD",
    "--annual-rate-percent", "12",
    "--term", "18",
    "--frequency", "monthly",
    "--start", "2022-11-01",
    "--method", "annuity",
    "--installment-multiple", "1",
]  # fmt: skip


def tenor(*args: str) -> subprocess.CompletedProcess[str]:
    # A fixed width, so that Rich lays out help and tables the same on every terminal.
    env = {**os.environ, "COLUMNS": "100"}
    return subprocess.run(
        [str(TENOR), *args], capture_output=True, text=True, check=False, timeout=60, env=env
    )


def replace(args: list[str], option: str, value: str) -> list[str]:
    """``args`` with ``option`` set to ``value`` instead."""
    index = args.index(option)
    return [*args[:index], option, value, *args[index + 2 :]]


# Fineract's RS02 schedule (see tests/core/test_schedule_peers.py): principal, interest, balance.
FINERACT_ROWS = """
    2022-12-01 255.00 50.00 4745.00
    2023-01-01 257.55 47.45 4487.45
    2023-02-01 260.13 44.87 4227.32
    2023-03-01 262.73 42.27 3964.59
    2023-04-01 265.35 39.65 3699.24
    2023-05-01 268.01 36.99 3431.23
    2023-06-01 270.69 34.31 3160.54
    2023-07-01 273.39 31.61 2887.15
    2023-08-01 276.13 28.87 2611.02
    2023-09-01 278.89 26.11 2332.13
    2023-10-01 281.68 23.32 2050.45
    2023-11-01 284.50 20.50 1765.95
    2023-12-01 287.34 17.66 1478.61
    2024-01-01 290.21 14.79 1188.40
    2024-02-01 293.12 11.88 895.28
    2024-03-01 296.05 8.95 599.23
    2024-04-01 299.01 5.99 300.22
    2024-05-01 300.22 3.00 0.00
"""


def test_json_contract_for_the_fineract_loan() -> None:
    result = tenor("schedule", *FINERACT_LOAN, "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    installments = []
    for number, line in enumerate(FINERACT_ROWS.split("\n")[1:-1], start=1):
        due_date, principal, interest, balance = line.split()
        total = str(Decimal(principal) + Decimal(interest))
        installments.append(
            {
                "number": number,
                "due_date": due_date,
                "principal": principal,
                "interest": interest,
                "fee": "0.00",
                "total": total,
                "balance": balance,
            }
        )
    assert json.loads(result.stdout) == {
        "installments": installments,
        "total_principal": "5000.00",
        "total_interest": "488.22",
    }


def test_json_keys_are_in_the_documented_order() -> None:
    document = json.loads(tenor("schedule", *FINERACT_LOAN, "--json").stdout)
    assert list(document) == ["installments", "total_principal", "total_interest"]
    assert list(document["installments"][0]) == [
        "number",
        "due_date",
        "principal",
        "interest",
        "fee",
        "total",
        "balance",
    ]


def test_options_reach_the_schedule() -> None:
    """Equal principal, daily interest on 30/360, fees, a moratorium, a calendar."""
    result = tenor(
        "schedule",
        *replace(FINERACT_LOAN, "--method", "equal-principal"),
        "--daily-interest",
        "--day-count", "30/360",
        "--installment-fee", "2.50",
        "--upfront-fee", "100",
        "--moratorium", "1",
        "--calendar", "US",
        "--business-day", "modified-following",
        "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    installments = json.loads(result.stdout)["installments"]
    first, second = installments[:2]
    assert first["total"] == "0.00"  # the moratorium: nothing due, not even the fee
    assert second["fee"] == "2.50"
    # 1 January 2023 is a Sunday, moved to Tuesday 3 January past the New Year holiday.
    assert second["due_date"] == "2023-01-03"
    assert len(installments) == 18


def test_table_output_for_people() -> None:
    result = tenor("schedule", *FINERACT_LOAN, "--upfront-fee", "50")
    assert result.returncode == 0, result.stderr
    assert "255.00" in result.stdout
    assert "Total" in result.stdout
    assert "5488.22" in result.stdout
    assert "Up-front fee 50.00" in result.stdout


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--principal", "-5", "error: --principal must be greater than zero, got -5"),
        ("--principal", "0", "error: --principal must be greater than zero, got 0"),
        ("--principal", "lots", "error: --principal must be an amount"),
        ("--principal", "1.005", "error: --principal has more than 2 decimal places for USD"),
        ("--term", "0", "error: --term must be between 1 and 10000 installments, got 0"),
        ("--term", "twelve", "error: --term must be a whole number, got 'twelve'"),
        ("--currency", "XYZ", "error: --currency must be an ISO 4217 code"),
        (
            "--annual-rate-percent",
            "1000.01",
            "error: --annual-rate-percent must be between 0 and 1000 (percent), got 1000.01",
        ),
        ("--start", "2022-02-30", "error: --start must be a real date, got '2022-02-30'"),
        ("--start", "1/11/2022", "error: --start must be a date written YYYY-MM-DD"),
        ("--method", "balloon", "error: --method must be one of annuity, equal-principal"),
        ("--frequency", "fortnightly", "error: --frequency must be weekly, biweekly"),
    ],
)
def test_a_bad_argument_exits_2_with_one_line(option: str, value: str, message: str) -> None:
    result = tenor("schedule", *replace(FINERACT_LOAN, option, value), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--first-due", "2022-10-01"], "error: --first-due must be after the start 2022-11-01"),
        (["--grace-principal", "18"], "error: --grace-principal must be less than the term"),
        (["--interest", "compound"], "error: --interest must be one of declining, flat"),
        (["--day-count", "ACT/999"], "error: --day-count must be one of 30/360"),
        (["--rounding", "bankers"], "error: --rounding must be one of half-up, half-even"),
        (["--business-day", "following"], "error: --business-day needs --calendar"),
        (["--calendar", "XX"], "error: --calendar must be a country code"),
        (["--installment-fee", "-1"], "error: --installment-fee must not be negative, got -1"),
    ],
)
def test_bad_optional_arguments_exit_2_with_one_line(extra: list[str], message: str) -> None:
    result = tenor("schedule", *FINERACT_LOAN, *extra, "--json")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(message)


def test_typer_usage_errors_also_exit_2() -> None:
    result = tenor("schedule", "--principal", "5000")
    assert result.returncode == 2
    assert "Missing option" in result.stderr


@pytest.mark.parametrize("args", [["--help"], ["schedule", "--help"]])
def test_help_is_complete(args: list[str]) -> None:
    result = tenor(*args)
    assert result.returncode == 0
    expected = ["schedule"] if args == ["--help"] else [
        "--principal", "--currency", "--annual-rate-percent", "--term", "--frequency",
        "--start", "--method", "--interest", "--day-count", "--daily-interest",
        "--grace-principal", "--grace-interest", "--installment-multiple", "--rounding",
        "--first-due", "--upfront-fee", "--installment-fee", "--moratorium", "--calendar",
        "--business-day", "--json",
    ]  # fmt: skip
    for word in expected:
        assert word in result.stdout
