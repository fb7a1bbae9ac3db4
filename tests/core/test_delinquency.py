"""Tests of tenor.core.delinquency: DPD, tolerance, buckets, penalty, class, stage, assess."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenor.core.delinquency import (
    CHINESE_BUCKETS,
    DEFAULT_PENALTY_RULE,
    US_BUCKETS,
    Bucket,
    BucketScheme,
    ClassificationThresholds,
    DelinquencyPolicy,
    DelinquencyStatus,
    LoanClass,
    OverdueInstallment,
    PenaltyRule,
    Stage,
    StageThresholds,
    UnpaidInstallment,
    assess,
    bucket_for,
    classify,
    days_past_due,
    ifrs9_stage,
    oldest_past_due_date,
    penalty_for_day,
    penalty_for_days,
)
from tenor.core.errors import CurrencyMismatchError, InvalidArgumentError
from tenor.core.money import Money, Rounding


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def unpaid(due: str, amount: str) -> UnpaidInstallment:
    return UnpaidInstallment(dt.date.fromisoformat(due), cny(amount))


def day(iso: str) -> dt.date:
    return dt.date.fromisoformat(iso)


NO_TOLERANCE = cny("0")


# ---------------------------------------------------------------------------------------------
# Days past due


@pytest.mark.parametrize(
    ("business_date", "expected"),
    [
        ("2024-03-14", 0),  # before the due date
        ("2024-03-15", 0),  # on the due date: not yet past due
        ("2024-03-16", 1),  # the day after
        ("2024-04-14", 30),
        ("2024-04-15", 31),
    ],
)
def test_dpd_counts_from_the_day_after_the_due_date(business_date: str, expected: int) -> None:
    installments = [unpaid("2024-03-15", "1000.00")]
    assert days_past_due(installments, day(business_date), NO_TOLERANCE) == expected


def test_dpd_counts_from_the_oldest_unpaid_installment_in_any_order() -> None:
    installments = [
        unpaid("2024-05-15", "1000.00"),  # not yet due
        unpaid("2024-04-15", "1000.00"),
        unpaid("2024-02-15", "0.00"),  # paid in full
        unpaid("2024-03-15", "400.00"),
    ]
    assert oldest_past_due_date(installments, day("2024-04-20"), NO_TOLERANCE) == day("2024-03-15")
    assert days_past_due(installments, day("2024-04-20"), NO_TOLERANCE) == 36


def test_nothing_unpaid_is_not_past_due() -> None:
    assert oldest_past_due_date([], day("2024-04-20"), NO_TOLERANCE) is None
    assert days_past_due([], day("2024-04-20"), NO_TOLERANCE) == 0
    assert days_past_due([unpaid("2024-03-15", "0.00")], day("2024-04-20"), NO_TOLERANCE) == 0


# ---------------------------------------------------------------------------------------------
# Tolerance: one allowance for the whole loan, spent on the oldest overdue amounts first


@pytest.mark.parametrize(
    ("installments", "expected"),
    [
        pytest.param([unpaid("2024-03-15", "0.99")], 0, id="residual-below-tolerance"),
        pytest.param([unpaid("2024-03-15", "1.00")], 0, id="residual-equal-to-tolerance"),
        pytest.param([unpaid("2024-03-15", "1.01")], 36, id="one-fen-over-tolerance"),
        pytest.param(
            [unpaid("2024-01-15", "0.50"), unpaid("2024-04-15", "1000.00")],
            5,
            id="old-residual-does-not-age-a-newly-missed-installment",
        ),
        pytest.param(
            [
                unpaid("2024-01-15", "0.60"),
                unpaid("2024-02-15", "0.60"),
                unpaid("2024-03-15", "0.60"),
            ],
            65,
            id="small-shortfalls-add-up-to-arrears",
        ),
        pytest.param(
            [unpaid("2024-04-15", "0.60"), unpaid("2024-04-20", "0.60")],
            0,
            id="installment-due-today-is-not-counted",
        ),
    ],
)
def test_tolerance_applies_to_the_total_overdue_oldest_first(
    installments: list[UnpaidInstallment], expected: int
) -> None:
    assert days_past_due(installments, day("2024-04-20"), cny("1.00")) == expected


def test_zero_tolerance_counts_a_single_fen() -> None:
    assert days_past_due([unpaid("2024-04-15", "0.01")], day("2024-04-20"), NO_TOLERANCE) == 5


def test_negative_tolerance_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="tolerance must not be negative"):
        days_past_due([], day("2024-04-20"), cny("-1.00"))


def test_negative_unpaid_amount_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="must not be negative"):
        unpaid("2024-03-15", "-0.01")


def test_installments_in_another_currency_are_refused() -> None:
    installments = [UnpaidInstallment(day("2024-05-15"), Money.of("10.00", "USD"))]
    with pytest.raises(CurrencyMismatchError, match="in USD, the tolerance in CNY"):
        days_past_due(installments, day("2024-04-20"), NO_TOLERANCE)


# ---------------------------------------------------------------------------------------------
# Buckets

CHINESE_BOUNDARIES = [
    (0, "M0"),
    (1, "M1"),
    (30, "M1"),
    (31, "M2"),
    (60, "M2"),
    (61, "M3"),
    (90, "M3"),
    (91, "M4"),
    (120, "M4"),
    (121, "M5"),
    (150, "M5"),
    (151, "M6"),
    (180, "M6"),
    (181, "M6+"),
    (10_000, "M6+"),
]

US_BOUNDARIES = [
    (0, "Current"),
    (29, "Current"),
    (30, "30-59"),
    (59, "30-59"),
    (60, "60-89"),
    (89, "60-89"),
    (90, "90-119"),
    (119, "90-119"),
    (120, "120-149"),
    (149, "120-149"),
    (150, "150-179"),
    (179, "150-179"),
    (180, "180+"),
    (10_000, "180+"),
]


@pytest.mark.parametrize(("dpd", "name"), CHINESE_BOUNDARIES)
def test_chinese_bucket_boundaries(dpd: int, name: str) -> None:
    assert bucket_for(dpd, CHINESE_BUCKETS).name == name


@pytest.mark.parametrize(("dpd", "name"), US_BOUNDARIES)
def test_us_bucket_boundaries(dpd: int, name: str) -> None:
    assert bucket_for(dpd, US_BUCKETS).name == name


@pytest.mark.parametrize("dpd", [-1, True])
def test_bucket_for_refuses_impossible_dpd(dpd: int) -> None:
    with pytest.raises(InvalidArgumentError, match="days past due must be"):
        bucket_for(dpd, CHINESE_BUCKETS)


def test_bucket_scheme_from_config() -> None:
    scheme = BucketScheme.from_config(
        "three",
        [
            {"name": "current", "min_dpd": 0, "max_dpd": 0},
            {"name": "late", "min_dpd": 1, "max_dpd": 89},
            {"name": "default", "min_dpd": 90},
        ],
    )
    assert scheme == BucketScheme(
        "three", (Bucket("current", 0, 0), Bucket("late", 1, 89), Bucket("default", 90, None))
    )


@pytest.mark.parametrize("scheme", [CHINESE_BUCKETS, US_BUCKETS])
def test_bucket_scheme_config_round_trips(scheme: BucketScheme) -> None:
    assert BucketScheme.from_config(scheme.name, scheme.to_config()) == scheme


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        pytest.param([], "has no buckets", id="empty"),
        pytest.param(
            [{"name": "a", "min_dpd": 1, "max_dpd": 9}, {"name": "b", "min_dpd": 10}],
            "the first bucket 'a' starts at 1; it must start at 0",
            id="not-from-zero",
        ),
        pytest.param(
            [{"name": "a", "min_dpd": 0, "max_dpd": 9}, {"name": "b", "min_dpd": 12}],
            r"no bucket covers 10\.\.11 days past due, between 'a' and 'b'",
            id="gap",
        ),
        pytest.param(
            [{"name": "a", "min_dpd": 0, "max_dpd": 9}, {"name": "b", "min_dpd": 9}],
            "bucket 'b' starts at 9, which overlaps 'a' ending at 9",
            id="overlap",
        ),
        pytest.param(
            [{"name": "a", "min_dpd": 0}, {"name": "b", "min_dpd": 10}],
            "bucket 'a' is open-ended but is not the last",
            id="open-ended-in-the-middle",
        ),
        pytest.param(
            [
                {"name": "a", "min_dpd": 0, "max_dpd": 9},
                {"name": "b", "min_dpd": 10, "max_dpd": 99},
            ],
            "the last bucket 'b' ends at 99; it must be open-ended",
            id="last-closed",
        ),
        pytest.param(
            [{"name": "a", "min_dpd": 0, "max_dpd": 9}, {"name": "a", "min_dpd": 10}],
            r"names buckets \['a'\] more than once",
            id="duplicate-name",
        ),
        pytest.param(
            [{"name": "a", "min_dpd": 5, "max_dpd": 4}],
            "max_dpd of bucket 'a' must be at least 5, not 4",
            id="ends-before-start",
        ),
        pytest.param(
            [{"name": "a", "min_dpd": 0, "max": 9}, {"name": "b", "min_dpd": 10}],
            r"bucket band 0 has unknown keys \['max'\]",
            id="unknown-key",
        ),
        pytest.param([{"min_dpd": 0}], "bucket band 0 has no name", id="no-name"),
        pytest.param([{"name": "a"}], "bucket band 0 has no min_dpd", id="no-start"),
        pytest.param(
            [{"name": "a", "min_dpd": "0"}],
            r"bucket band 0 \('a'\): min_dpd must be a whole number, not '0'",
            id="start-not-a-number",
        ),
        pytest.param(
            [{"name": "a", "min_dpd": 0, "max_dpd": 9.5}, {"name": "b", "min_dpd": 10}],
            r"bucket band 0 \('a'\): max_dpd must be a whole number or null, not 9\.5",
            id="end-not-a-number",
        ),
        pytest.param(
            [{"name": 3, "min_dpd": 0}],
            "bucket band 0: name must be a string, not 3",
            id="name-not-a-string",
        ),
        pytest.param(
            [{"name": " ", "min_dpd": 0}], "a bucket needs a non-empty name", id="blank-name"
        ),
        pytest.param(["M0"], "bucket band 0 must be a mapping, not 'M0'", id="band-not-a-map"),
        pytest.param("M0,M1", "must be a list of bands, not str", id="not-a-list"),
    ],
)
def test_bad_bucket_configuration_is_refused(bands: object, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        BucketScheme.from_config("bad", bands)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Penalty interest

DUE = day("2024-03-15")


def overdue(principal: str, interest: str = "0.00", due: dt.date = DUE) -> OverdueInstallment:
    return OverdueInstallment(due, cny(principal), cny(interest))


def rule(
    daily_rate: str = "0.0005",
    grace_days: int = 0,
    *,
    include_interest: bool = False,
    rounding: Rounding = Rounding.HALF_UP,
    charge_from_due_date: bool = True,
) -> PenaltyRule:
    return PenaltyRule(
        daily_rate=Decimal(daily_rate),
        grace_days=grace_days,
        include_interest=include_interest,
        rounding=rounding,
        charge_from_due_date=charge_from_due_date,
    )


def daily_penalties(
    installments: list[OverdueInstallment], penalty_rule: PenaltyRule, days: int
) -> list[str]:
    """The penalty booked on each of the ``days`` business dates from the due date."""
    return [
        penalty_for_day(
            installments, DUE + dt.timedelta(days=n), penalty_rule, currency="CNY"
        ).format()
        for n in range(days)
    ]


def test_penalty_without_grace_accrues_from_the_day_after_the_due_date() -> None:
    # 1000.00 at 0.05% a day is 0.50 a day; nothing on the due date itself.
    assert daily_penalties([overdue("1000.00")], rule(), 4) == ["0.00", "0.50", "0.50", "0.50"]


def test_penalty_after_grace_charged_from_the_due_date() -> None:
    # Grace of 3 days: DPD 1-3 bear nothing; on DPD 4 grace is exceeded and all 4 days are
    # charged at once.
    assert daily_penalties([overdue("1000.00")], rule(grace_days=3), 6) == [
        "0.00",
        "0.00",
        "0.00",
        "0.00",
        "2.00",
        "0.50",
    ]


def test_penalty_after_grace_charged_from_the_end_of_grace() -> None:
    penalty_rule = rule(grace_days=3, charge_from_due_date=False)
    assert daily_penalties([overdue("1000.00")], penalty_rule, 6) == [
        "0.00",
        "0.00",
        "0.00",
        "0.00",
        "0.50",
        "0.50",
    ]


@pytest.mark.parametrize(
    ("charge_from_due_date", "through", "expected"),
    [
        (True, "2024-03-18", "0.00"),  # DPD 3: still in grace
        (True, "2024-03-19", "2.00"),  # DPD 4: grace exceeded, 4 days charged
        (True, "2024-03-24", "4.50"),  # DPD 9
        (False, "2024-03-18", "0.00"),
        (False, "2024-03-19", "0.50"),
        (False, "2024-03-24", "3.00"),
    ],
)
def test_penalty_over_a_range_with_grace(
    charge_from_due_date: bool, through: str, expected: str
) -> None:
    penalty_rule = rule(grace_days=3, charge_from_due_date=charge_from_due_date)
    penalty = penalty_for_days(
        [overdue("1000.00")],
        after=day("2024-03-01"),
        through=day(through),
        rule=penalty_rule,
        currency="CNY",
    )
    assert penalty == cny(expected)


def test_penalty_ranges_split_at_any_day_add_up_when_nothing_rounds() -> None:
    penalty_rule = rule(grace_days=3)
    installments = [overdue("1000.00"), overdue("500.00", due=day("2024-03-20"))]

    def between(after: str, through: str) -> Money:
        return penalty_for_days(
            installments,
            after=day(after),
            through=day(through),
            rule=penalty_rule,
            currency="CNY",
        )

    whole = between("2024-03-10", "2024-04-10")
    for split in ("2024-03-15", "2024-03-18", "2024-03-19", "2024-03-24", "2024-03-25"):
        assert between("2024-03-10", split) + between(split, "2024-04-10") == whole


def test_penalty_on_interest_only_when_the_rule_includes_it() -> None:
    installments = [overdue("1000.00", "200.00")]
    principal_only = penalty_for_day(installments, day("2024-03-16"), rule(), currency="CNY")
    with_interest = penalty_for_day(
        installments, day("2024-03-16"), rule(include_interest=True), currency="CNY"
    )
    assert (principal_only, with_interest) == (cny("0.50"), cny("0.60"))


def test_grace_counts_from_each_installment_own_due_date() -> None:
    installments = [overdue("1000.00"), overdue("1000.00", due=day("2024-03-18"))]
    # On 19 March the first installment exceeds its 3 days' grace; the second is 1 day late.
    assert penalty_for_day(installments, day("2024-03-19"), rule(grace_days=3), currency="CNY") == (
        cny("2.00")
    )


def test_installments_not_yet_due_bear_no_penalty() -> None:
    installments = [overdue("1000.00", due=day("2024-04-15"))]
    penalty = penalty_for_days(
        installments,
        after=day("2024-03-01"),
        through=day("2024-04-15"),
        rule=rule(),
        currency="CNY",
    )
    assert penalty == cny("0.00")


@pytest.mark.parametrize(
    ("rounding", "one_day", "three_days"),
    [
        # 100.00 x 0.00033333 = 0.033333 a day; three days 0.099999, rounded once.
        (Rounding.HALF_UP, "0.03", "0.10"),
        (Rounding.HALF_EVEN, "0.03", "0.10"),
        (Rounding.DOWN, "0.03", "0.09"),
        (Rounding.UP, "0.04", "0.10"),
    ],
)
def test_penalty_is_rounded_once_with_the_rule_rounding(
    rounding: Rounding, one_day: str, three_days: str
) -> None:
    penalty_rule = rule("0.00033333", rounding=rounding)
    installments = [overdue("100.00")]
    assert penalty_for_day(installments, day("2024-03-16"), penalty_rule, currency="CNY") == (
        cny(one_day)
    )
    assert penalty_for_days(
        installments, after=DUE, through=day("2024-03-18"), rule=penalty_rule, currency="CNY"
    ) == cny(three_days)


def test_penalty_half_up_and_half_even_differ_on_a_half_fen() -> None:
    # 10.00 x 0.0005 = 0.005 exactly.
    installments = [overdue("10.00")]
    half_up = penalty_for_day(installments, day("2024-03-16"), rule(), currency="CNY")
    half_even = penalty_for_day(
        installments, day("2024-03-16"), rule(rounding=Rounding.HALF_EVEN), currency="CNY"
    )
    assert (half_up, half_even) == (cny("0.01"), cny("0.00"))


def test_penalty_range_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="before its start"):
        penalty_for_days(
            [], after=day("2024-03-02"), through=day("2024-03-01"), rule=rule(), currency="CNY"
        )


def test_penalty_refuses_installments_in_another_currency() -> None:
    installments = [OverdueInstallment(DUE, Money.of("1.00", "USD"), Money.of("0", "USD"))]
    with pytest.raises(CurrencyMismatchError, match="in USD, the penalty in CNY"):
        penalty_for_day(installments, day("2024-03-16"), rule(), currency="CNY")


def test_overdue_installment_refuses_mixed_currencies_and_negative_amounts() -> None:
    with pytest.raises(CurrencyMismatchError, match="principal in CNY and interest in USD"):
        OverdueInstallment(DUE, cny("1.00"), Money.of("1.00", "USD"))
    with pytest.raises(InvalidArgumentError, match="must not be negative"):
        overdue("1.00", "-0.01")


@pytest.mark.parametrize(
    ("daily_rate", "grace_days", "message"),
    [
        (Decimal("-0.0001"), 0, "fraction per day from 0 up to 1"),
        (Decimal("5"), 0, r"fraction per day from 0 up to 1 \(0.0005 is 0.05% a day\), not 5"),
        (Decimal("NaN"), 0, "must be a finite Decimal"),
        (0.0005, 0, "must be a finite Decimal, not 0.0005"),
        (Decimal("0.0005"), -1, "grace_days must be at least 0, not -1"),
        (Decimal("0.0005"), True, "grace_days must be a whole number, not True"),
    ],
)
def test_bad_penalty_rule_is_refused(daily_rate: Decimal, grace_days: int, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        PenaltyRule(daily_rate=daily_rate, grace_days=grace_days)


# ---------------------------------------------------------------------------------------------
# Five-level classification


@pytest.mark.parametrize(
    ("dpd", "expected"),
    [
        (0, LoanClass.NORMAL),
        (1, LoanClass.SPECIAL_MENTION),
        (90, LoanClass.SPECIAL_MENTION),
        (91, LoanClass.SUBSTANDARD),
        (180, LoanClass.SUBSTANDARD),
        (181, LoanClass.DOUBTFUL),
        (360, LoanClass.DOUBTFUL),
        (361, LoanClass.LOSS),
        (5000, LoanClass.LOSS),
    ],
)
def test_classification_default_thresholds(dpd: int, expected: LoanClass) -> None:
    assert classify(dpd) is expected


@pytest.mark.parametrize(
    ("dpd", "expected"),
    [
        (0, LoanClass.SPECIAL_MENTION),
        (90, LoanClass.SPECIAL_MENTION),
        (91, LoanClass.SUBSTANDARD),
        (361, LoanClass.LOSS),
    ],
)
def test_restructured_loan_is_at_least_special_mention(dpd: int, expected: LoanClass) -> None:
    assert classify(dpd, restructured=True) is expected


def test_classification_custom_thresholds() -> None:
    # The 2023 CBIRC and PBOC rule: substandard beyond 90 DPD, doubtful beyond 270, loss beyond 360.
    thresholds = ClassificationThresholds(
        special_mention_from=1, substandard_from=91, doubtful_from=271, loss_from=361
    )
    assert [classify(dpd, thresholds=thresholds) for dpd in (0, 1, 91, 270, 271, 361)] == [
        LoanClass.NORMAL,
        LoanClass.SPECIAL_MENTION,
        LoanClass.SUBSTANDARD,
        LoanClass.SUBSTANDARD,
        LoanClass.DOUBTFUL,
        LoanClass.LOSS,
    ]


def test_loan_class_labels() -> None:
    assert [(c.label_zh, c.label_en) for c in LoanClass] == [
        ("正常", "Normal"),
        ("关注", "Special mention"),
        ("次级", "Substandard"),
        ("可疑", "Doubtful"),
        ("损失", "Loss"),
    ]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"special_mention_from": 0}, "special_mention_from must be at least 1, not 0"),
        (
            {"substandard_from": 181, "doubtful_from": 91},
            "must rise strictly: special_mention_from=1 < substandard_from=181 < "
            "doubtful_from=91 < loss_from=361",
        ),
        ({"doubtful_from": 361}, "must rise strictly"),
        ({"loss_from": "361"}, "loss_from must be a whole number, not '361'"),
    ],
)
def test_bad_classification_thresholds_are_refused(values: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        ClassificationThresholds(**values)  # type: ignore[arg-type]


def test_classify_refuses_negative_dpd() -> None:
    with pytest.raises(InvalidArgumentError, match="days past due must be at least 0"):
        classify(-1)


# ---------------------------------------------------------------------------------------------
# IFRS 9 stage


@pytest.mark.parametrize(
    ("dpd", "restructured", "watchlist", "written_off", "expected"),
    [
        (0, False, False, False, Stage.STAGE_1),
        (30, False, False, False, Stage.STAGE_1),
        (31, False, False, False, Stage.STAGE_2),
        (90, False, False, False, Stage.STAGE_2),
        (91, False, False, False, Stage.STAGE_3),
        (0, True, False, False, Stage.STAGE_2),
        (0, False, True, False, Stage.STAGE_2),
        (0, False, False, True, Stage.STAGE_3),
        (91, True, True, False, Stage.STAGE_3),
        (10, True, True, True, Stage.STAGE_3),
    ],
)
def test_ifrs9_stage_rules(
    dpd: int, restructured: bool, watchlist: bool, written_off: bool, expected: Stage
) -> None:
    stage = ifrs9_stage(
        dpd, restructured=restructured, watchlist=watchlist, written_off=written_off
    )
    assert stage is expected


def test_ifrs9_stage_custom_thresholds() -> None:
    thresholds = StageThresholds(stage_2_from=8, stage_3_from=61)
    flags = {"restructured": False, "watchlist": False, "written_off": False}
    assert [ifrs9_stage(d, thresholds=thresholds, **flags) for d in (7, 8, 60, 61)] == [
        Stage.STAGE_1,
        Stage.STAGE_2,
        Stage.STAGE_2,
        Stage.STAGE_3,
    ]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"stage_2_from": 91, "stage_3_from": 31}, "stage_2_from=91 < stage_3_from=31"),
        ({"stage_2_from": 31, "stage_3_from": 31}, "must rise strictly"),
        ({"stage_2_from": 0}, "stage_2_from must be at least 1, not 0"),
    ],
)
def test_bad_stage_thresholds_are_refused(values: dict[str, int], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        StageThresholds(**values)


# ---------------------------------------------------------------------------------------------
# Policy and assessment


def test_default_policy() -> None:
    policy = DelinquencyPolicy(tolerance=cny("1.00"))
    assert (policy.buckets, policy.classification, policy.stages, policy.penalty) == (
        CHINESE_BUCKETS,
        ClassificationThresholds(1, 91, 181, 361),
        StageThresholds(31, 91),
        DEFAULT_PENALTY_RULE,
    )


def test_policy_refuses_negative_tolerance() -> None:
    with pytest.raises(InvalidArgumentError, match="tolerance must not be negative"):
        DelinquencyPolicy(tolerance=cny("-0.01"))


def test_assess_a_current_loan_with_a_tolerated_residual() -> None:
    installments = [
        unpaid("2024-01-15", "0.00"),
        unpaid("2024-02-15", "0.40"),  # a residual within tolerance
        unpaid("2024-03-15", "1000.00"),  # due today
    ]
    status = assess(installments, day("2024-03-15"), DelinquencyPolicy(tolerance=cny("1.00")))
    assert status == DelinquencyStatus(
        days_past_due=0,
        bucket=Bucket("M0", 0, 0),
        loan_class=LoanClass.NORMAL,
        stage=Stage.STAGE_1,
        overdue_amount=cny("0.40"),
        oldest_unpaid_due_date=None,
    )


def test_assess_a_loan_four_months_behind() -> None:
    installments = [
        unpaid("2024-01-15", "1000.00"),
        unpaid("2024-02-15", "1000.00"),
        unpaid("2024-03-15", "1000.00"),
        unpaid("2024-04-15", "1000.00"),
        unpaid("2024-05-15", "1000.00"),  # due after the business date
    ]
    status = assess(installments, day("2024-05-10"), DelinquencyPolicy(tolerance=cny("1.00")))
    assert status == DelinquencyStatus(
        days_past_due=116,
        bucket=Bucket("M4", 91, 120),
        loan_class=LoanClass.SUBSTANDARD,
        stage=Stage.STAGE_3,
        overdue_amount=cny("4000.00"),
        oldest_unpaid_due_date=day("2024-01-15"),
    )


def test_assess_a_restructured_watchlisted_loan_in_us_buckets() -> None:
    policy = DelinquencyPolicy(tolerance=Money.of("5.00", "USD"), buckets=US_BUCKETS)
    installments = [UnpaidInstallment(day("2024-04-01"), Money.of("250.00", "USD"))]
    status = assess(installments, day("2024-04-11"), policy, restructured=True, watchlist=True)
    assert status == DelinquencyStatus(
        days_past_due=10,
        bucket=Bucket("Current", 0, 29),
        loan_class=LoanClass.SPECIAL_MENTION,
        stage=Stage.STAGE_2,
        overdue_amount=Money.of("250.00", "USD"),
        oldest_unpaid_due_date=day("2024-04-01"),
    )


def test_assess_a_written_off_loan_is_stage_3() -> None:
    status = assess([], day("2024-04-11"), DelinquencyPolicy(cny("0")), written_off=True)
    assert (status.days_past_due, status.stage, status.overdue_amount) == (
        0,
        Stage.STAGE_3,
        cny("0"),
    )


def test_assess_refuses_installments_in_another_currency() -> None:
    installments = [UnpaidInstallment(day("2024-05-15"), Money.of("10.00", "USD"))]
    with pytest.raises(CurrencyMismatchError):
        assess(installments, day("2024-04-11"), DelinquencyPolicy(cny("0")))


# ---------------------------------------------------------------------------------------------
# Properties

dates = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31))
installment_lists = st.lists(
    st.builds(
        UnpaidInstallment,
        due_date=dates,
        unpaid=st.integers(min_value=0, max_value=10**8).map(lambda m: Money(m, "CNY")),
    ),
    max_size=12,
)
tolerances = st.integers(min_value=0, max_value=500).map(lambda m: Money(m, "CNY"))


@given(installment_lists, dates, st.integers(min_value=0, max_value=800), tolerances)
def test_dpd_never_falls_while_nothing_is_paid(
    installments: list[UnpaidInstallment], start: dt.date, days_later: int, tolerance: Money
) -> None:
    later = start + dt.timedelta(days=days_later)
    before = days_past_due(installments, start, tolerance)
    after = days_past_due(installments, later, tolerance)
    assert after >= before
    if before > 0:
        # Once past due, a loan ages one day per day.
        assert after == before + days_later


@st.composite
def bucket_schemes(draw: st.DrawFn) -> BucketScheme:
    """Valid schemes: strictly rising starts from 0, the last band open-ended."""
    starts = [0, *sorted(draw(st.sets(st.integers(min_value=1, max_value=400), max_size=10)))]
    ends: list[int | None] = [start - 1 for start in starts[1:]]
    ends.append(None)
    return BucketScheme(
        "generated",
        tuple(
            Bucket(f"B{i}", start, end)
            for i, (start, end) in enumerate(zip(starts, ends, strict=True))
        ),
    )


@given(
    st.one_of(st.just(CHINESE_BUCKETS), st.just(US_BUCKETS), bucket_schemes()),
    st.integers(min_value=0, max_value=100_000),
)
def test_every_dpd_falls_in_exactly_one_bucket(scheme: BucketScheme, dpd: int) -> None:
    containing = [bucket for bucket in scheme.buckets if bucket.contains(dpd)]
    assert containing == [bucket_for(dpd, scheme)]
