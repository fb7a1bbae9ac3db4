"""The close's vectorised step against ``tenor.core``, loan by loan (the reference)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenor.batch.policies import policy_frame
from tenor.batch.step import (
    ARREARS_SCHEMA,
    INSTALLMENT_SCHEMA,
    LOAN_SCHEMA,
    UPCOMING_SCHEMA,
    CloseInputs,
    CloseOutputs,
    close_partition,
)
from tenor.core.account import LoanState, fold
from tenor.core.delinquency import (
    CHINESE_BUCKETS,
    US_BUCKETS,
    DelinquencyPolicy,
    OverdueInstallment,
    PenaltyRule,
    UnpaidInstallment,
    assess,
    penalty_for_days,
)
from tenor.core.money import Money, Rounding
from tests.strategies import journals


@dataclass(frozen=True)
class Case:
    """One loan as the close sees it: its folded state, product policy and last close."""

    loan_id: int
    product_id: int
    state: LoanState
    policy: DelinquencyPolicy
    previous_close: dt.date | None
    watch_until: dt.date | None


def _unsettled(case: Case) -> list[dict[str, object]]:
    return [
        {
            "loan_id": case.loan_id,
            "number": item.number,
            "start_date": item.start_date,
            "due_date": item.due_date,
            "interest_minor": item.interest.minor,
            "unpaid_principal_minor": item.unpaid_principal.minor,
            "unpaid_interest_minor": item.unpaid_interest.minor,
            "unpaid_minor": item.unpaid_minor,
        }
        for item in case.state.installments
        if item.unpaid_minor > 0
    ]


def _base(case: Case) -> list[OverdueInstallment]:
    """The overdue base the previous close left: installments due by then, as now unpaid."""
    if case.previous_close is None or case.state.written_off_on is not None:
        return []
    return [
        OverdueInstallment(item.due_date, item.unpaid_principal, item.unpaid_interest)
        for item in case.state.installments
        if item.unpaid_minor > 0 and item.due_date <= case.previous_close
    ]


def inputs_for(cases: list[Case], day: dt.date) -> tuple[CloseInputs, pl.DataFrame]:
    """The step's inputs for ``cases`` on ``day``, and the policy frame."""
    loans = pl.DataFrame(
        [
            {
                "loan_id": case.loan_id,
                "product_id": case.product_id,
                "written_off": case.state.written_off_on is not None,
                "watch_until": case.watch_until,
                "prev_bucket": None,
                "prev_class": None,
                "prev_stage": None,
                "penalty_through": case.previous_close,
            }
            for case in cases
        ],
        schema=LOAN_SCHEMA,
    )
    installments = pl.DataFrame(
        [row for case in cases for row in _unsettled(case)], schema=INSTALLMENT_SCHEMA
    )
    arrears = pl.DataFrame(
        [
            {
                "loan_id": case.loan_id,
                "number": item.number,
                "due_date": item.due_date,
                "principal_minor": item.unpaid_principal.minor,
                "interest_minor": item.unpaid_interest.minor,
            }
            for case in cases
            if case.previous_close is not None and case.state.written_off_on is None
            for item in case.state.installments
            if item.unpaid_minor > 0 and item.due_date <= case.previous_close
        ],
        schema=ARREARS_SCHEMA,
    )
    upcoming = installments.select(list(UPCOMING_SCHEMA))
    policies = policy_frame({case.product_id: case.policy for case in cases})
    return CloseInputs(loans, installments, arrears, upcoming), policies


penalty_rules = st.builds(
    PenaltyRule,
    daily_rate=st.decimals(min_value=0, max_value=Decimal("0.01"), places=6),
    grace_days=st.integers(min_value=0, max_value=10),
    include_interest=st.booleans(),
    rounding=st.sampled_from(list(Rounding)),
    charge_from_due_date=st.booleans(),
)


@st.composite
def cases(draw: st.DrawFn, loan_id: int) -> tuple[Case, dt.date]:
    """A folded loan, its product's policy and a close date somewhere in its life."""
    terms, rules, events = draw(journals())
    state = fold(terms, events, rules)
    life = terms.term * 31 + 200
    day = terms.start + dt.timedelta(days=draw(st.integers(0, life)))
    policy = DelinquencyPolicy(
        tolerance=Money(draw(st.sampled_from([0, 0, 100, 5_000])), "CNY"),
        buckets=draw(st.sampled_from([CHINESE_BUCKETS, US_BUCKETS])),
        penalty=draw(penalty_rules),
    )
    back = draw(st.none() | st.integers(min_value=1, max_value=120))
    previous = None if back is None else day - dt.timedelta(days=back)
    watch = draw(st.none() | st.integers(min_value=-30, max_value=90))
    watch_until = None if watch is None else day + dt.timedelta(days=watch)
    return Case(loan_id, loan_id, state, policy, previous, watch_until), day


@st.composite
def partitions(draw: st.DrawFn) -> tuple[list[Case], dt.date]:
    """Up to five loans with their own products, closed on one business date."""
    count = draw(st.integers(min_value=1, max_value=5))
    first, day = draw(cases(1))
    rest = []
    for loan_id in range(2, count + 1):
        case, own_day = draw(cases(loan_id))
        # Each loan keeps its own timeline; shift its dates so all close on ``day``.
        rest.append(case)
        del own_day
    return [first, *rest], day


def _row(frame: pl.DataFrame, loan_id: int) -> dict[str, object] | None:
    rows = frame.filter(pl.col("loan_id") == loan_id).to_dicts()
    assert len(rows) <= 1
    return rows[0] if rows else None


def _check_against_core(cases_: list[Case], day: dt.date, result: CloseOutputs) -> None:
    opening = day + dt.timedelta(days=1)
    for case in cases_:
        written_off = case.state.written_off_on is not None
        watched = case.watch_until is not None and case.watch_until >= opening
        unpaid = [UnpaidInstallment(item.due_date, item.unpaid) for item in case.state.installments]
        expected = assess(
            unpaid, opening, case.policy, restructured=watched, written_off=written_off
        )
        row = _row(result.state, case.loan_id)
        assert row is not None
        assert row["days_past_due"] == expected.days_past_due
        assert row["bucket"] == expected.bucket.name
        assert row["loan_class"] == int(expected.loan_class)
        assert row["stage"] == int(expected.stage)
        assert row["overdue_minor"] == expected.overdue_amount.minor
        assert row["dpd_anchor"] == expected.oldest_unpaid_due_date
        assert row["penalty_through"] == day

        base = _base(case)
        penalty = _row(result.penalties, case.loan_id)
        if base and case.previous_close is not None and case.previous_close < day:
            owed = penalty_for_days(
                base,
                after=case.previous_close,
                through=day,
                rule=case.policy.penalty,
                currency="CNY",
            )
        else:
            owed = Money(0, "CNY")
        assert (penalty["amount_minor"] if penalty else 0) == owed.minor
        if penalty:
            oldest = min(base, key=lambda item: item.due_date)
            charged = next(
                item
                for item in case.state.installments
                if item.due_date == oldest.due_date and item.unpaid_minor > 0
            )
            assert penalty["installment"] == charged.number
            assert penalty["after"] == case.previous_close

        accrued = sum(
            (item.interest.minor * ((day - item.start_date).days + 1))
            // (item.due_date - item.start_date).days
            for item in case.state.installments
            if item.unpaid_minor > 0 and item.start_date <= day < item.due_date
        )
        assert row["accrued_interest_minor"] == accrued


def _status(case: Case, close: dt.date) -> tuple[object, ...]:
    """Bucket, class and stage after closing ``close``, with no new events."""
    opening = close + dt.timedelta(days=1)
    watched = case.watch_until is not None and case.watch_until >= opening
    unpaid = [UnpaidInstallment(item.due_date, item.unpaid) for item in case.state.installments]
    found = assess(
        unpaid,
        opening,
        case.policy,
        restructured=watched,
        written_off=case.state.written_off_on is not None,
    )
    return found.bucket.name, found.loan_class, found.stage


def _check_next_touch(cases_: list[Case], day: dt.date, result: CloseOutputs) -> None:
    """Nothing changes at any close before ``next_touch`` unless an event happens."""
    for case in cases_:
        row = _row(result.state, case.loan_id)
        assert row is not None
        touch = row["next_touch"]
        horizon = day + dt.timedelta(days=400)
        last = touch if isinstance(touch, dt.date) else horizon
        assert last > day
        now = _status(case, day)
        close = day + dt.timedelta(days=1)
        while close < last:
            assert _status(case, close) == now, (
                f"loan {case.loan_id} changes on {close} before {touch}"
            )
            assert not any(
                item.unpaid_minor > 0 and item.due_date == close for item in case.state.installments
            ), f"an installment of loan {case.loan_id} falls due on {close} before {touch}"
            close += dt.timedelta(days=1)


@given(partitions())
def test_step_equals_the_core_loan_by_loan(partition: tuple[list[Case], dt.date]) -> None:
    cases_, day = partition
    inputs, policies = inputs_for(cases_, day)
    result = close_partition(inputs, day, policies)
    assert result.errors.is_empty()
    _check_against_core(cases_, day, result)
    _check_next_touch(cases_, day, result)


def test_first_close_moves_only_off_the_first_band() -> None:
    policy = DelinquencyPolicy(tolerance=Money(0, "CNY"))
    day = dt.date(2026, 3, 10)
    loans = pl.DataFrame(
        [
            {"loan_id": 1, "product_id": 7, "written_off": False},
            {"loan_id": 2, "product_id": 7, "written_off": False},
        ],
        schema={k: LOAN_SCHEMA[k] for k in ("loan_id", "product_id", "written_off")},
    ).with_columns(
        pl.lit(None, pl.Date).alias("watch_until"),
        pl.lit(None, pl.Utf8).alias("prev_bucket"),
        pl.lit(None, pl.Int8).alias("prev_class"),
        pl.lit(None, pl.Int8).alias("prev_stage"),
        pl.lit(None, pl.Date).alias("penalty_through"),
    )
    installments = pl.DataFrame(
        [
            # Loan 1 is current; loan 2 owes the installment due 40 days ago.
            (1, 1, dt.date(2026, 3, 1), dt.date(2026, 4, 1), 500, 10_000, 500, 10_500),
            (2, 1, dt.date(2026, 1, 29), dt.date(2026, 2, 28), 500, 10_000, 500, 10_500),
            (2, 2, dt.date(2026, 2, 28), dt.date(2026, 3, 28), 450, 10_000, 450, 10_450),
        ],
        schema=INSTALLMENT_SCHEMA,
        orient="row",
    )
    inputs = CloseInputs(
        loans,
        installments,
        pl.DataFrame(schema=ARREARS_SCHEMA),
        installments.select(list(UPCOMING_SCHEMA)),
    )
    result = close_partition(inputs, day, policy_frame({7: policy}))
    assert result.changes.select("loan_id", "kind", "to_bucket", "to_class").rows() == [
        (2, "bucket", "M1", 2),
        (2, "classification", "M1", 2),
    ]
    state = result.state.to_dicts()
    assert [(row["loan_id"], row["days_past_due"], row["bucket"]) for row in state] == [
        (1, 0, "M0"),
        (2, 11, "M1"),
    ]
    # Loan 1 next changes at the close of its due date; loan 2 at its next due date.
    assert [row["next_touch"] for row in state] == [dt.date(2026, 4, 1), dt.date(2026, 3, 28)]


def test_a_broken_loan_is_reported_and_the_rest_closes() -> None:
    policy = DelinquencyPolicy(tolerance=Money(0, "CNY"))
    day = dt.date(2026, 3, 10)
    loans = pl.DataFrame(
        [
            (1, 7, False, None, None, None, None, None),
            (2, 7, False, None, None, None, None, None),
            (3, 99, False, None, None, None, None, None),
        ],
        schema=LOAN_SCHEMA,
        orient="row",
    )
    installments = pl.DataFrame(
        [
            (1, 1, dt.date(2026, 3, 1), dt.date(2026, 4, 1), 500, 10_000, 500, 10_500),
            # Unpaid principal and interest exceed what is unpaid in all: corrupt.
            (2, 1, dt.date(2026, 1, 29), dt.date(2026, 2, 28), 500, 10_000, 900, 10_500),
        ],
        schema=INSTALLMENT_SCHEMA,
        orient="row",
    )
    inputs = CloseInputs(
        loans,
        installments,
        pl.DataFrame(schema=ARREARS_SCHEMA),
        pl.DataFrame(schema=UPCOMING_SCHEMA),
    )
    result = close_partition(inputs, day, policy_frame({7: policy}))
    assert result.state["loan_id"].to_list() == [1]
    assert result.errors["loan_id"].to_list() == [2, 3]
    messages = result.errors["message"].to_list()
    assert "inconsistent amounts" in messages[0]
    assert "product 99 has no delinquency policy" in messages[1]


@pytest.mark.parametrize(
    ("due", "offset"),
    [(dt.date(2026, 3, 13), -3), (dt.date(2026, 3, 10), 0), (dt.date(2026, 3, 3), 7)],
)
def test_reminders_fall_on_the_offsets(due: dt.date, offset: int) -> None:
    day = dt.date(2026, 3, 10)
    upcoming = pl.DataFrame(
        [(5, 2, due, 12_345), (6, 1, due, 0)], schema=UPCOMING_SCHEMA, orient="row"
    )
    inputs = CloseInputs(
        pl.DataFrame(schema=LOAN_SCHEMA),
        pl.DataFrame(schema=INSTALLMENT_SCHEMA),
        pl.DataFrame(schema=ARREARS_SCHEMA),
        upcoming,
    )
    result = close_partition(inputs, day, policy_frame({}))
    assert result.actions.rows() == [(5, "reminder", offset, 2, due, 12_345)]
