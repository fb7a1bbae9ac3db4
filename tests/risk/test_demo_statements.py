"""The demo's enterprise statements: balanced, seeded, and warning before the first miss."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from tenor.risk.demo_statements import _level, quarter_ends, statement_for
from tenor.risk.ews import Covenant, Severity, check_covenants, check_trends


def test_quarter_ends() -> None:
    assert quarter_ends(dt.date(2025, 2, 10), dt.date(2025, 12, 30)) == [
        dt.date(2025, 3, 31),
        dt.date(2025, 6, 30),
        dt.date(2025, 9, 30),
    ]


def test_a_deteriorating_borrower_warns_before_the_quarter_of_its_first_miss() -> None:
    """Onset is quarter 5 (the last quarter-end before the first missed payment)."""
    rng = random.Random(1)
    ends = quarter_ends(dt.date(2025, 1, 1), dt.date(2026, 12, 31))
    statements = [
        statement_for(end, 10_000_000, _level(index, 5), rng, "CNY")
        for index, end in enumerate(ends)
    ]
    dscr = [Covenant("dscr", minimum=Decimal("1.20"))]
    first_breach = next(
        index
        for index, statement in enumerate(statements)
        if any(s.severity is Severity.BREACH for s in check_covenants(statement, dscr))
    )
    first_trend = next(
        index for index in range(len(statements)) if check_trends(statements[: index + 1])
    )
    assert first_breach <= 5
    assert first_trend <= 5
    healthy = [
        statement_for(end, 10_000_000, _level(index, None), random.Random(2), "CNY")
        for index, end in enumerate(ends)
    ]
    assert not any(check_covenants(statement, dscr) for statement in healthy)
