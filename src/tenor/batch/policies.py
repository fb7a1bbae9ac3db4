"""Products' delinquency policies as one frame, the form the daily close's step reads.

Each row is one product: its arrears tolerance, its penalty rule (the daily rate as an exact
integer fraction, so that the vectorised step rounds exactly as ``tenor.core`` does), its
bucket bands (as list columns) and its classification and stage thresholds.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from tenor.core.delinquency import DelinquencyPolicy

#: The schema of :func:`policy_frame`.
POLICY_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "product_id": pl.Int64,
    "tolerance_minor": pl.Int64,
    "rate_numerator": pl.Int64,
    "rate_denominator": pl.Int64,
    "grace_days": pl.Int32,
    "include_interest": pl.Boolean,
    "charge_from_due_date": pl.Boolean,
    "rounding": pl.Utf8,
    "band_names": pl.List(pl.Utf8),
    "band_starts": pl.List(pl.Int32),
    "special_mention_from": pl.Int32,
    "substandard_from": pl.Int32,
    "doubtful_from": pl.Int32,
    "loss_from": pl.Int32,
    "stage_2_from": pl.Int32,
    "stage_3_from": pl.Int32,
}


def policy_row(product_id: int, policy: DelinquencyPolicy) -> dict[str, object]:
    """One product's row of the policy frame."""
    numerator, denominator = policy.penalty.daily_rate.as_integer_ratio()
    return {
        "product_id": product_id,
        "tolerance_minor": policy.tolerance.minor,
        "rate_numerator": numerator,
        "rate_denominator": denominator,
        "grace_days": policy.penalty.grace_days,
        "include_interest": policy.penalty.include_interest,
        "charge_from_due_date": policy.penalty.charge_from_due_date,
        "rounding": policy.penalty.rounding.value,
        "band_names": [bucket.name for bucket in policy.buckets.buckets],
        "band_starts": [bucket.min_dpd for bucket in policy.buckets.buckets],
        "special_mention_from": policy.classification.special_mention_from,
        "substandard_from": policy.classification.substandard_from,
        "doubtful_from": policy.classification.doubtful_from,
        "loss_from": policy.classification.loss_from,
        "stage_2_from": policy.stages.stage_2_from,
        "stage_3_from": policy.stages.stage_3_from,
    }


def policy_frame(policies: Mapping[int, DelinquencyPolicy]) -> pl.DataFrame:
    """The policy frame of products by id: ``{product_id: ProductConfig.delinquency_policy()}``."""
    rows = [policy_row(product_id, policy) for product_id, policy in sorted(policies.items())]
    return pl.DataFrame(rows, schema=POLICY_SCHEMA)
