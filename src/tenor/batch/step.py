"""The daily close's step: one partition of the book, one business date, as frames.

``close_partition(inputs, day, policies)`` is a pure function of Polars frames: no database,
no clock, no loop over loans. Every engine (in-process, a process pool, a Dask cluster) and
every book (SQLite, PostgreSQL, Parquet partitions) runs this same function, and its results
equal, loan by loan, what ``tenor.core`` computes for one loan (``tests/batch/test_step.py``).

Closing business date D is the end of day D; what the step reports is the loan as of the
next open date D+1: an installment due on D and still unpaid is past due by one day, exactly
``tenor.core.delinquency.assess(unpaid, D+1, policy)``.

Penalty interest accrues each day on the overdue base as it stood at the start of that day,
that is after the previous close. The step posts what accrued over ``(penalty_through, D]``
for every loan it is given, on the base the loan's previous close left (``arrears_before``):
the base cannot have changed in between, because anything that changes it (a payment, a new
installment falling due) makes the loan part of the next close. The amount is
``tenor.core.delinquency.penalty_for_days`` over that range, rounded once.

Only the loans the shell selects are stepped: those whose ``next_touch`` has come, those with
new journal events and those never closed. ``next_touch`` is the first later close at which
something can change without an event: an installment falls due, days past due enter another
bucket, class or stage, a watch period ends, or the month ends with penalty to post.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

import polars as pl

#: Reminder offsets in days from the due date: negative before it, positive past it.
DEFAULT_REMINDER_OFFSETS: Final = (-3, -1, 0, 1, 3, 7)

LOAN_SCHEMA: Final[dict[str, pl.DataType | type[pl.DataType]]] = {
    "loan_id": pl.Int64,
    "product_id": pl.Int64,
    "written_off": pl.Boolean,
    "watch_until": pl.Date,
    "prev_bucket": pl.Utf8,
    "prev_class": pl.Int8,
    "prev_stage": pl.Int8,
    "penalty_through": pl.Date,
}
INSTALLMENT_SCHEMA: Final[dict[str, pl.DataType | type[pl.DataType]]] = {
    "loan_id": pl.Int64,
    "number": pl.Int32,
    "start_date": pl.Date,
    "due_date": pl.Date,
    "interest_minor": pl.Int64,
    "unpaid_principal_minor": pl.Int64,
    "unpaid_interest_minor": pl.Int64,
    "unpaid_minor": pl.Int64,
}
ARREARS_SCHEMA: Final[dict[str, pl.DataType | type[pl.DataType]]] = {
    "loan_id": pl.Int64,
    "number": pl.Int32,
    "due_date": pl.Date,
    "principal_minor": pl.Int64,
    "interest_minor": pl.Int64,
}
UPCOMING_SCHEMA: Final[dict[str, pl.DataType | type[pl.DataType]]] = {
    "loan_id": pl.Int64,
    "number": pl.Int32,
    "due_date": pl.Date,
    "unpaid_minor": pl.Int64,
}
STATE_SCHEMA: Final[dict[str, pl.DataType | type[pl.DataType]]] = {
    "loan_id": pl.Int64,
    "dpd_anchor": pl.Date,
    "days_past_due": pl.Int32,
    "bucket": pl.Utf8,
    "loan_class": pl.Int8,
    "stage": pl.Int8,
    "overdue_minor": pl.Int64,
    "accrued_interest_minor": pl.Int64,
    "penalty_through": pl.Date,
    "next_touch": pl.Date,
}
PENALTY_SCHEMA: Final[dict[str, pl.DataType | type[pl.DataType]]] = {
    "loan_id": pl.Int64,
    "installment": pl.Int32,
    "amount_minor": pl.Int64,
    "after": pl.Date,
    "through": pl.Date,
}
CHANGE_SCHEMA: Final[dict[str, pl.DataType | type[pl.DataType]]] = {
    "loan_id": pl.Int64,
    "kind": pl.Utf8,
    "from_bucket": pl.Utf8,
    "to_bucket": pl.Utf8,
    "from_class": pl.Int8,
    "to_class": pl.Int8,
    "from_stage": pl.Int8,
    "to_stage": pl.Int8,
    "days_past_due": pl.Int32,
}
ACTION_SCHEMA: Final[dict[str, pl.DataType | type[pl.DataType]]] = {
    "loan_id": pl.Int64,
    "kind": pl.Utf8,
    "offset_days": pl.Int32,
    "installment": pl.Int32,
    "due_date": pl.Date,
    "amount_minor": pl.Int64,
}
ERROR_SCHEMA: Final[dict[str, pl.DataType | type[pl.DataType]]] = {
    "loan_id": pl.Int64,
    "message": pl.Utf8,
}


def empty(schema: dict[str, pl.DataType | type[pl.DataType]]) -> pl.DataFrame:
    """An empty frame of ``schema``."""
    return pl.DataFrame(schema=schema)


@dataclass(frozen=True)
class CloseInputs:
    """What one partition's close reads.

    ``loans``: the touched loans (LOAN_SCHEMA). ``installments``: their unsettled installments,
    any due date (INSTALLMENT_SCHEMA). ``arrears_before``: the penalty base their previous
    close left (ARREARS_SCHEMA). ``upcoming``: unsettled installments of active loans in the
    partition falling due on the reminder dates, touched or not (UPCOMING_SCHEMA).
    """

    loans: pl.DataFrame
    installments: pl.DataFrame
    arrears_before: pl.DataFrame
    upcoming: pl.DataFrame


@dataclass(frozen=True)
class CloseOutputs:
    """What one partition's close decides; every frame sorted by loan id."""

    state: pl.DataFrame
    arrears_after: pl.DataFrame
    penalties: pl.DataFrame
    changes: pl.DataFrame
    actions: pl.DataFrame
    errors: pl.DataFrame


def _conform(
    frame: pl.DataFrame, schema: dict[str, pl.DataType | type[pl.DataType]]
) -> pl.DataFrame:
    """``frame``'s columns of ``schema``, cast to it; a missing column is a programming error."""
    missing = [name for name in schema if name not in frame.columns]
    if missing:
        raise ValueError(f"the close's input lacks columns {missing}")
    return frame.select([pl.col(name).cast(kind) for name, kind in schema.items()])


def _days(expression: pl.Expr) -> pl.Expr:
    return expression.dt.total_days().cast(pl.Int64)


def _plus_days(day: pl.Expr, days: pl.Expr) -> pl.Expr:
    return (day + pl.duration(days=days)).cast(pl.Date)


def _rounded_quotient(numerator: pl.Expr, denominator: pl.Expr, rounding: pl.Expr) -> pl.Expr:
    """``numerator / denominator`` for non-negative integers, rounded as ``tenor.core`` does."""
    quotient = numerator // denominator
    remainder = numerator - quotient * denominator
    half_up = quotient + (2 * remainder >= denominator).cast(pl.Int128)
    half_even = quotient + (
        (2 * remainder > denominator) | ((2 * remainder == denominator) & (quotient % 2 == 1))
    ).cast(pl.Int128)
    up = quotient + (remainder > 0).cast(pl.Int128)
    return (
        pl.when(rounding == "half-up")
        .then(half_up)
        .when(rounding == "half-even")
        .then(half_even)
        .when(rounding == "up")
        .then(up)
        .otherwise(quotient)
    )


def _bad_data(
    loans: pl.DataFrame, installments: pl.DataFrame, policies: pl.DataFrame
) -> pl.DataFrame:
    """One error row per loan whose data breaks a rule of the ledger.

    Repeated installment numbers are not looked for: every book keys installments by loan
    and number.
    """
    unknown_product = loans.join(policies.select("product_id"), on="product_id", how="anti").select(
        "loan_id",
        pl.format("the loan's product {} has no delinquency policy", pl.col("product_id")).alias(
            "message"
        ),
    )
    broken = installments.filter(
        pl.col("due_date").is_null()
        | pl.col("start_date").is_null()
        | (pl.col("unpaid_minor") <= 0)
        | (pl.col("unpaid_principal_minor") < 0)
        | (pl.col("unpaid_interest_minor") < 0)
        | (pl.col("interest_minor") < 0)
        | (
            pl.col("unpaid_principal_minor") + pl.col("unpaid_interest_minor")
            > pl.col("unpaid_minor")
        )
        | (pl.col("start_date") > pl.col("due_date"))
    ).select(
        "loan_id",
        pl.format(
            "installment {} has inconsistent amounts or dates (unpaid {}, of which principal {} "
            "and interest {}; period {} to {})",
            "number",
            "unpaid_minor",
            "unpaid_principal_minor",
            "unpaid_interest_minor",
            "start_date",
            "due_date",
        ).alias("message"),
    )
    orphans = installments.join(loans.select("loan_id"), on="loan_id", how="anti")
    errors = pl.concat([unknown_product, broken], how="vertical")
    # Rows for loans the partition was not given are the loader's mistake, not a loan's.
    if orphans.height:
        strays = orphans["loan_id"].unique().sort().to_list()[:5]
        raise ValueError(f"installments given for loans not in the partition: {strays}")
    return (
        errors.group_by("loan_id")
        .agg(pl.col("message").unique().sort().str.join("; "))
        .sort("loan_id")
    )


def close_partition(
    inputs: CloseInputs,
    day: dt.date,
    policies: pl.DataFrame,
    reminder_offsets: tuple[int, ...] = DEFAULT_REMINDER_OFFSETS,
) -> CloseOutputs:
    """Close business date ``day`` for one partition of the book (see the module docstring)."""
    opening = day + dt.timedelta(days=1)
    loans = _conform(inputs.loans, LOAN_SCHEMA)
    installments = _conform(inputs.installments, INSTALLMENT_SCHEMA)
    arrears_before = _conform(inputs.arrears_before, ARREARS_SCHEMA)
    upcoming = _conform(inputs.upcoming, UPCOMING_SCHEMA)

    errors = _bad_data(loans, installments, policies)
    bad = errors.select("loan_id")
    loans = loans.join(bad, on="loan_id", how="anti").join(policies, on="product_id", how="inner")
    installments = installments.join(bad, on="loan_id", how="anti")
    arrears_before = arrears_before.join(bad, on="loan_id", how="anti")

    state = _delinquency(loans, installments, day, opening)
    state = _classified(state, policies, opening)
    penalties = _penalties(loans, arrears_before, day)
    arrears_after = (
        installments.filter(pl.col("due_date") <= day)
        .select(
            "loan_id",
            "number",
            "due_date",
            pl.col("unpaid_principal_minor").alias("principal_minor"),
            pl.col("unpaid_interest_minor").alias("interest_minor"),
        )
        .sort("loan_id", "due_date", "number")
    )
    accrued = _accrued_interest(installments, day)
    state = state.join(accrued, on="loan_id", how="left").with_columns(
        pl.col("accrued_interest_minor").fill_null(0),
        pl.lit(day).alias("penalty_through"),
    )
    state = _next_touch(state, installments, arrears_after, policies, day)
    changes = _changes(state)
    actions = _reminders(upcoming, day, reminder_offsets)
    return CloseOutputs(
        state=_conform(state, STATE_SCHEMA).sort("loan_id"),
        arrears_after=arrears_after.pipe(_conform, ARREARS_SCHEMA),
        penalties=penalties.pipe(_conform, PENALTY_SCHEMA).sort("loan_id"),
        changes=changes.pipe(_conform, CHANGE_SCHEMA).sort("loan_id", "kind"),
        actions=actions.pipe(_conform, ACTION_SCHEMA).sort("loan_id", "installment", "offset_days"),
        errors=errors.pipe(_conform, ERROR_SCHEMA),
    )


def _delinquency(
    loans: pl.DataFrame, installments: pl.DataFrame, day: dt.date, opening: dt.date
) -> pl.DataFrame:
    """Overdue amount and the date days past due count from, per loan, as of ``opening``.

    As in ``tenor.core.delinquency``: the overdue amounts, summed oldest first, must exceed
    the loan's tolerance; the installment where they first do gives the anchor date.
    """
    # A running sum per loan without a window: the global running sum, less its value where
    # the loan's rows begin.
    overdue = (
        installments.filter(pl.col("due_date") <= day)
        .join(loans.select("loan_id", "tolerance_minor"), on="loan_id")
        .sort("loan_id", "due_date", "number")
    )
    total = pl.col("unpaid_minor").cum_sum()
    begins = pl.col("loan_id") != pl.col("loan_id").shift(1, fill_value=-1)
    before = pl.when(begins).then(total - pl.col("unpaid_minor")).forward_fill()
    overdue = overdue.with_columns((total - before).alias("running"))
    per_loan = overdue.group_by("loan_id").agg(
        pl.col("unpaid_minor").sum().alias("overdue_minor"),
        pl.col("due_date")
        .filter(pl.col("running") > pl.col("tolerance_minor"))
        .min()
        .alias("dpd_anchor"),
    )
    return loans.join(per_loan, on="loan_id", how="left").with_columns(
        pl.col("overdue_minor").fill_null(0),
        pl.when(pl.col("dpd_anchor").is_null())
        .then(0)
        .otherwise(_days(pl.lit(opening) - pl.col("dpd_anchor")))
        .cast(pl.Int32)
        .alias("days_past_due"),
    )


def _bands(policies: pl.DataFrame) -> pl.DataFrame:
    return (
        policies.select("product_id", "band_names", "band_starts")
        .explode("band_names", "band_starts")
        .rename({"band_names": "bucket", "band_starts": "band_start"})
        .with_columns(pl.col("band_start").cast(pl.Int32))
    )


def _classified(state: pl.DataFrame, policies: pl.DataFrame, opening: dt.date) -> pl.DataFrame:
    """Bucket, five-level class and IFRS 9 stage, as ``tenor.core.delinquency.assess``."""
    bands = _bands(policies).sort("band_start")
    state = state.sort("days_past_due").join_asof(
        bands,
        left_on="days_past_due",
        right_on="band_start",
        by="product_id",
        strategy="backward",
        # Sorted globally on days past due, hence within every product too.
        check_sortedness=False,
    )
    dpd = pl.col("days_past_due")
    watched = pl.col("watch_until").is_not_null() & (pl.col("watch_until") >= opening)
    by_dpd = (
        pl.when(dpd >= pl.col("loss_from"))
        .then(5)
        .when(dpd >= pl.col("doubtful_from"))
        .then(4)
        .when(dpd >= pl.col("substandard_from"))
        .then(3)
        .when(dpd >= pl.col("special_mention_from"))
        .then(2)
        .otherwise(1)
    )
    loan_class = pl.when(watched).then(pl.max_horizontal(by_dpd, pl.lit(2))).otherwise(by_dpd)
    stage = (
        pl.when(pl.col("written_off") | (dpd >= pl.col("stage_3_from")))
        .then(3)
        .when(watched | (dpd >= pl.col("stage_2_from")))
        .then(2)
        .otherwise(1)
    )
    first_band = bands.filter(pl.col("band_start") == 0).select(
        "product_id", pl.col("bucket").alias("first_bucket")
    )
    return state.with_columns(
        loan_class.cast(pl.Int8).alias("loan_class"), stage.cast(pl.Int8).alias("stage")
    ).join(first_band, on="product_id", how="left")


def _penalties(loans: pl.DataFrame, arrears_before: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """Penalty accrued over ``(penalty_through, day]`` on each loan's previous overdue base.

    Vectorised ``tenor.core.delinquency.penalty_for_days``: per installment, the chargeable
    days of the range (grace days charged back on the day grace is exceeded, when the product
    says so), times its base; summed per loan, times the daily rate, rounded once.
    """
    rows = arrears_before.join(
        loans.filter(~pl.col("written_off")).select(
            "loan_id",
            "penalty_through",
            "rate_numerator",
            "rate_denominator",
            "grace_days",
            "include_interest",
            "charge_from_due_date",
            "rounding",
        ),
        on="loan_id",
    )
    after = pl.coalesce(pl.col("penalty_through"), pl.col("due_date").min().over("loan_id")).alias(
        "after"
    )
    rows = rows.with_columns(after).filter(pl.col("after") < day)
    grace = pl.col("grace_days").cast(pl.Int64)
    dpd_before = _days(pl.col("after") - pl.col("due_date"))
    dpd_through = _days(pl.lit(day) - pl.col("due_date"))
    charged_from = pl.max_horizontal(dpd_before, grace)
    days = pl.max_horizontal(dpd_through - charged_from, pl.lit(0, pl.Int64))
    days = days + pl.when(pl.col("charge_from_due_date") & (dpd_before <= grace) & (days > 0)).then(
        grace
    ).otherwise(0)
    base = pl.col("principal_minor") + pl.when(pl.col("include_interest")).then(
        pl.col("interest_minor")
    ).otherwise(0)
    per_loan = (
        rows.with_columns((base.cast(pl.Int128) * days).alias("base_days"))
        .sort("loan_id", "due_date", "number")
        .group_by("loan_id", maintain_order=True)
        .agg(
            pl.col("number").first().alias("installment"),
            pl.col("base_days").sum(),
            pl.col("after").first(),
            pl.col("rate_numerator").first(),
            pl.col("rate_denominator").first(),
            pl.col("rounding").first(),
        )
    )
    amount = _rounded_quotient(
        pl.col("base_days") * pl.col("rate_numerator").cast(pl.Int128),
        pl.col("rate_denominator").cast(pl.Int128),
        pl.col("rounding"),
    )
    return (
        per_loan.with_columns(
            amount.cast(pl.Int64).alias("amount_minor"), pl.lit(day).alias("through")
        )
        .filter(pl.col("amount_minor") > 0)
        .select(list(PENALTY_SCHEMA))
    )


def _accrued_interest(installments: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """Interest accrued and not yet due at the end of ``day``, straight-line over the period."""
    current = installments.filter((pl.col("start_date") <= day) & (pl.col("due_date") > day))
    elapsed = _days(pl.lit(day) - pl.col("start_date")) + 1
    length = _days(pl.col("due_date") - pl.col("start_date"))
    accrued = (pl.col("interest_minor") * elapsed) // length
    return current.group_by("loan_id").agg(accrued.sum().alias("accrued_interest_minor"))


def _next_touch(
    state: pl.DataFrame,
    installments: pl.DataFrame,
    arrears_after: pl.DataFrame,
    policies: pl.DataFrame,
    day: dt.date,
) -> pl.DataFrame:
    """The first later close at which the loan can change without a new event."""
    next_due = (
        installments.filter(pl.col("due_date") > day)
        .group_by("loan_id")
        .agg(pl.col("due_date").min().alias("next_due"))
    )
    thresholds = (
        pl.concat(
            [
                _bands(policies).select("product_id", pl.col("band_start").alias("threshold")),
                *(
                    policies.select("product_id", pl.col(name).cast(pl.Int32).alias("threshold"))
                    for name in (
                        "special_mention_from",
                        "substandard_from",
                        "doubtful_from",
                        "loss_from",
                        "stage_2_from",
                        "stage_3_from",
                    )
                ),
            ]
        )
        .unique()
        .sort("threshold")
    )
    # The first threshold above today's days past due: an as-of join looking forward.
    next_band = (
        state.filter(pl.col("dpd_anchor").is_not_null())
        .select(
            "loan_id",
            "product_id",
            "dpd_anchor",
            (pl.col("days_past_due") + 1).alias("above"),
        )
        .sort("above")
        .join_asof(
            thresholds,
            left_on="above",
            right_on="threshold",
            by="product_id",
            strategy="forward",
            check_sortedness=False,
        )
        .filter(pl.col("threshold").is_not_null())
        .select(
            "loan_id",
            _plus_days(pl.col("dpd_anchor"), pl.col("threshold").cast(pl.Int64) - 1).alias(
                "next_band"
            ),
        )
    )
    opening = day + dt.timedelta(days=1)
    month_end = (opening.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(
        days=1
    )
    with_base = (
        arrears_after.select("loan_id").unique().with_columns(pl.lit(month_end).alias("month_end"))
    )
    return (
        state.join(next_due, on="loan_id", how="left")
        .join(next_band, on="loan_id", how="left")
        .join(with_base, on="loan_id", how="left")
        .with_columns(
            pl.min_horizontal(
                "next_due",
                "next_band",
                "month_end",
                pl.when(pl.col("watch_until") > day).then(pl.col("watch_until")),
            ).alias("next_touch")
        )
    )


def _changes(state: pl.DataFrame) -> pl.DataFrame:
    """Bucket and classification moves since the loan's previous close.

    A loan closed for the first time has no previous close: it moves only when it starts
    somewhere other than the first bucket, 正常 and stage 1.
    """
    before_bucket = pl.coalesce("prev_bucket", "first_bucket")
    before_class = pl.coalesce(pl.col("prev_class"), pl.lit(1, pl.Int8))
    before_stage = pl.coalesce(pl.col("prev_stage"), pl.lit(1, pl.Int8))
    columns: list[str | pl.Expr] = [
        "loan_id",
        pl.col("prev_bucket").alias("from_bucket"),
        pl.col("bucket").alias("to_bucket"),
        pl.col("prev_class").alias("from_class"),
        pl.col("loan_class").alias("to_class"),
        pl.col("prev_stage").alias("from_stage"),
        pl.col("stage").alias("to_stage"),
        "days_past_due",
    ]
    buckets = state.filter(before_bucket != pl.col("bucket")).select(
        columns[0], pl.lit("bucket").alias("kind"), *columns[1:]
    )
    classes = state.filter(
        (before_class != pl.col("loan_class")) | (before_stage != pl.col("stage"))
    ).select(columns[0], pl.lit("classification").alias("kind"), *columns[1:])
    return pl.concat([buckets, classes]).select(list(CHANGE_SCHEMA))


def _reminders(upcoming: pl.DataFrame, day: dt.date, offsets: tuple[int, ...]) -> pl.DataFrame:
    """One reminder action per unsettled installment whose due date is an offset from ``day``."""
    offset = _days(pl.lit(day) - pl.col("due_date")).cast(pl.Int32)
    return (
        upcoming.filter(pl.col("unpaid_minor") > 0)
        .with_columns(offset.alias("offset_days"))
        .filter(pl.col("offset_days").is_in(list(offsets)))
        .select(
            "loan_id",
            pl.lit("reminder").alias("kind"),
            "offset_days",
            pl.col("number").alias("installment"),
            "due_date",
            pl.col("unpaid_minor").alias("amount_minor"),
        )
    )
