"""Risk reports over the book: IFRS 9 expected credit loss by stage and segment.

Each open loan's ECL is computed by :func:`tenor.risk.ecl.expected_credit_loss` from its
projection (``loan_state``: outstanding principal, interest and charges due, stage), the
months to its last unsettled installment and its contractual rate; the stage is the higher of
the loan's own (from days past due) and the stage an open watchlist entry moves it to.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenor.core.money import Money
from tenor.risk.actions import stage_overrides
from tenor.risk.ecl import EclPolicy, expected_credit_loss, segment_of, stage_pd
from tenor.store.models import Borrower, InstallmentRow, Loan, LoanStateRow


def _months_between(start: dt.date, end: dt.date | None) -> int:
    """Whole months from ``start`` to ``end`` (at least one): the loan's remaining life."""
    if end is None:
        return 1
    return max((end.year - start.year) * 12 + end.month - start.month, 1)


def ecl_report(session: Session, policy: EclPolicy | None = None) -> dict[str, Any]:
    """ECL and exposure by stage and segment, per currency, with the policy used."""
    policy = policy or EclPolicy.default()
    overrides = stage_overrides(session)
    last_due = dict(
        session.execute(
            select(InstallmentRow.loan_id, func.max(InstallmentRow.due_date))
            .where(InstallmentRow.settled_on.is_(None))
            .group_by(InstallmentRow.loan_id)
        ).all()
    )
    rows = session.execute(
        select(LoanStateRow, Loan.terms, Borrower.kind)
        .join(Loan, Loan.id == LoanStateRow.loan_id)
        .join(Borrower, Borrower.id == Loan.borrower_id)
        .where(LoanStateRow.status.in_(("active", "overpaid")))
        .order_by(LoanStateRow.loan_id)
    ).all()
    totals: dict[tuple[str, int, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for state, terms, kind in rows:
        segment = segment_of(kind)
        stage = max(state.stage, overrides.get(state.loan_id, 1))
        due = (
            state.outstanding_interest_minor
            + state.outstanding_fees_minor
            + state.outstanding_penalties_minor
        )
        loss = expected_credit_loss(
            stage=stage,
            pd_12m=stage_pd(policy, segment, stage),
            lgd=policy.lgd[segment],
            principal=Money(state.outstanding_principal_minor, state.currency),
            due=Money(due, state.currency),
            annual_rate=Decimal(str(terms.get("annual_rate", "0"))),
            remaining_months=_months_between(state.business_date, last_due.get(state.loan_id)),
        )
        entry = totals[(state.currency, stage, segment)]
        entry[0] += 1
        entry[1] += state.outstanding_principal_minor + due
        entry[2] += loss.minor
    lines = []
    for (currency, stage, segment), (count, exposure, ecl_minor) in sorted(totals.items()):
        lines.append(
            {
                "currency": currency,
                "stage": stage,
                "segment": segment,
                "loans": count,
                "exposure": str(Money(exposure, currency).amount),
                "ecl": str(Money(ecl_minor, currency).amount),
                "coverage": str((Decimal(ecl_minor) / exposure).quantize(Decimal("0.0001")))
                if exposure
                else "0",
            }
        )
    return {
        "lines": lines,
        "policy": {
            "pd_12m": {key: str(value) for key, value in policy.pd_12m.items()},
            "lgd": {key: str(value) for key, value in policy.lgd.items()},
            "stage2_pd_multiplier": str(policy.stage2_pd_multiplier),
        },
    }
