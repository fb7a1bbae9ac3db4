"""Tests of tenor.core.collection: strategy segments, champion/challenger arms, treatment paths,
promises to pay at their edges, queue order, agency commission and the legal state machine."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenor.core.collection import (
    LEGAL_TRANSITIONS,
    PRESERVATION_TRANSITIONS,
    ActionKind,
    AgencyCollection,
    AgencyStatement,
    Arm,
    CaseFacts,
    CommissionBand,
    ExitCondition,
    Interval,
    InvalidTransitionError,
    Judgment,
    LegalStage,
    LegalState,
    PathPosition,
    Preservation,
    PromiseRules,
    PromiseStatus,
    QueueItem,
    Segment,
    StatementLine,
    Strategy,
    TreatmentStep,
    assign_arm,
    commission,
    commission_rate,
    heuristic_propensity,
    judge_promise,
    legal_transition,
    mean_interval,
    next_step,
    pause_reason,
    placement_refusal,
    preservation_transition,
    proportion_interval,
    queue_order,
    reconcile_agency,
)
from tenor.core.errors import CurrencyMismatchError, InvalidArgumentError
from tenor.core.money import Money
from tests.strategies import agency_collections, commission_rates, currencies, legal_moves, money

SMS = TreatmentStep(ActionKind.SMS)
CALL = TreatmentStep(ActionKind.CALL, wait_days=3)
LETTER = TreatmentStep(ActionKind.LETTER, wait_days=7)
DAY = dt.date(2026, 4, 1)


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def segment(name: str = "s", min_dpd: int = 1, max_dpd: int | None = None, **kw: Any) -> Segment:
    return Segment(name, min_dpd, max_dpd, champion=(SMS,), **kw)


def facts(**kw: Any) -> CaseFacts:
    values: dict[str, Any] = {
        "loan_id": 1,
        "days_past_due": 10,
        "balance_minor": 100_000,
        "product": "cash",
    }
    return CaseFacts(**(values | kw))


# --- segments and strategies ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bounds", "fact", "matches"),
    [
        pytest.param({"max_dpd": 30}, {"days_past_due": 0}, False, id="dpd-below-min"),
        pytest.param({"max_dpd": 30}, {"days_past_due": 1}, True, id="dpd-at-min"),
        pytest.param({"max_dpd": 30}, {"days_past_due": 30}, True, id="dpd-at-max"),
        pytest.param({"max_dpd": 30}, {"days_past_due": 31}, False, id="dpd-above-max"),
        pytest.param({"min_dpd": 31}, {"days_past_due": 30}, False, id="dpd-below-higher-min"),
        pytest.param({}, {"days_past_due": 10_000}, True, id="dpd-open-ended"),
        pytest.param({"min_score": 600, "max_score": 700}, {"score": 599}, False, id="score-low"),
        pytest.param({"min_score": 600, "max_score": 700}, {"score": 600}, True, id="score-min"),
        pytest.param({"min_score": 600, "max_score": 700}, {"score": 700}, True, id="score-max"),
        pytest.param({"min_score": 600, "max_score": 700}, {"score": 701}, False, id="score-hi"),
        pytest.param({"min_score": 600}, {"score": None}, False, id="score-none-vs-min"),
        pytest.param({"max_score": 700}, {"score": None}, False, id="score-none-vs-max"),
        pytest.param({}, {"score": None}, True, id="score-none-no-bounds"),
        pytest.param({}, {"score": 0}, True, id="score-any-no-bounds"),
        pytest.param({"min_balance_minor": 1000}, {"balance_minor": 999}, False, id="bal-low"),
        pytest.param({"min_balance_minor": 1000}, {"balance_minor": 1000}, True, id="bal-min"),
        pytest.param({"max_balance_minor": 5000}, {"balance_minor": 5000}, True, id="bal-max"),
        pytest.param({"max_balance_minor": 5000}, {"balance_minor": 5001}, False, id="bal-hi"),
        pytest.param({"products": frozenset({"cash"})}, {"product": "cash"}, True, id="product"),
        pytest.param({"products": frozenset({"cash"})}, {"product": "card"}, False, id="other"),
        pytest.param({}, {"product": "anything"}, True, id="product-any"),
        pytest.param({"first_payment_default": True}, {}, False, id="fpd-required"),
        pytest.param(
            {"first_payment_default": True}, {"first_payment_default": True}, True, id="fpd-yes"
        ),
        pytest.param(
            {"first_payment_default": False}, {"first_payment_default": True}, False, id="fpd-no"
        ),
        pytest.param({}, {"first_payment_default": True}, True, id="fpd-any"),
        pytest.param({"hardship": True}, {}, False, id="hardship-required"),
        pytest.param({"hardship": True}, {"hardship": True}, True, id="hardship-yes"),
        pytest.param({"hardship": False}, {"hardship": True}, False, id="hardship-excluded"),
        pytest.param({}, {"hardship": True}, True, id="hardship-any"),
    ],
)
def test_segment_bounds_are_inclusive(
    bounds: dict[str, Any], fact: dict[str, Any], matches: bool
) -> None:
    assert segment(**bounds).matches(facts(**fact)) is matches


def test_the_first_matching_segment_wins() -> None:
    strategy = Strategy(
        "consumer",
        1,
        (
            segment("early", 1, 30),
            segment("large", 1, None, min_balance_minor=1_000_000),
            segment("hardship", 31, None, hardship=True),
            segment("late", 31, None),
        ),
    )
    cases = {
        "early and large": facts(days_past_due=10, balance_minor=2_000_000),
        "late and large": facts(days_past_due=40, balance_minor=2_000_000),
        "late, hardship": facts(days_past_due=40, hardship=True),
        "late": facts(days_past_due=40),
        "current": facts(days_past_due=0),
    }
    found = {
        name: None if (s := strategy.segment_for(case)) is None else s.name
        for name, case in cases.items()
    }
    assert found == {
        "early and large": "early",
        "late and large": "large",
        "late, hardship": "hardship",
        "late": "late",
        "current": None,
    }


def test_a_strategy_finds_its_segments_by_name_and_prices_actions() -> None:
    strategy = Strategy("consumer", 2, (segment("early"),), costs={ActionKind.CALL: 350})
    assert strategy.segment("early") == segment("early")
    with pytest.raises(InvalidArgumentError, match="no segment late"):
        strategy.segment("late")
    # An override replaces the default; an action the strategy does not price keeps it.
    assert (strategy.cost(ActionKind.CALL), strategy.cost(ActionKind.VISIT)) == (350, 6000)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        pytest.param(lambda: segment(min_dpd=0), "start at 1 day past due", id="min-dpd-0"),
        pytest.param(lambda: segment(min_dpd=-5), "start at 1 day past due", id="min-dpd-neg"),
        pytest.param(lambda: segment(min_dpd=31, max_dpd=30), "max_dpd is below", id="dpd-inv"),
        pytest.param(
            lambda: segment(challenger=(CALL,), challenger_share=Decimal("-0.01")),
            "not in \\[0, 1\\]",
            id="share-negative",
        ),
        pytest.param(
            lambda: segment(challenger=(CALL,), challenger_share=Decimal("1.01")),
            "not in \\[0, 1\\]",
            id="share-above-one",
        ),
        pytest.param(
            lambda: segment(challenger_share=Decimal("0.5")), "needs a path", id="share-no-path"
        ),
        pytest.param(
            lambda: segment(min_score=700, max_score=600), "max_score is below", id="score-inv"
        ),
        pytest.param(
            lambda: segment(min_balance_minor=5000, max_balance_minor=4999),
            "max_balance_minor is below",
            id="balance-inverted",
        ),
        pytest.param(
            lambda: Strategy("s", 1, (segment("a"), segment("b"), segment("a"))),
            "segment names must be unique",
            id="duplicate-names",
        ),
        pytest.param(lambda: Strategy("s", 1, ()), "at least one segment", id="no-segments"),
        pytest.param(
            lambda: TreatmentStep(ActionKind.SMS, wait_days=-1), "negative", id="negative-wait"
        ),
    ],
)
def test_invalid_strategies_are_refused(build: Any, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        build()


def test_the_edges_of_valid_segments_are_accepted() -> None:
    one_day = segment(min_dpd=1, max_dpd=1, min_score=600, max_score=600)
    all_challenger = segment(challenger=(CALL,), challenger_share=Decimal(1))
    assert one_day.matches(facts(days_past_due=1, score=600))
    assert all_challenger.path(Arm.CHALLENGER) == (CALL,)
    assert all_challenger.path(Arm.CHAMPION) == (SMS,)


# --- champion and challenger --------------------------------------------------------------------

#: sha256("early|m1|<loan id>"), its first 8 bytes as a big-endian integer over 2**64: the
#: split is a function of these bytes alone, the same in every process and on every machine.
LITERAL_POSITIONS = {
    42: ("240b6c3b6faa5ea2", Decimal("0.1407992978198904042820907567")),
    7: ("656525b124212291", Decimal("0.3960746343110526447085263657")),
    1001: ("812986564def3384", Decimal("0.5045398674682786621051994169")),
}


def split(share: str) -> Segment:
    return segment("m1", challenger=(CALL,), challenger_share=Decimal(share))


@pytest.mark.parametrize("loan_id", sorted(LITERAL_POSITIONS))
def test_assign_arm_follows_the_literal_sha256_split(loan_id: int) -> None:
    prefix, position = LITERAL_POSITIONS[loan_id]
    assert hashlib.sha256(f"early|m1|{loan_id}".encode()).hexdigest().startswith(prefix)
    assert position == Decimal(int(prefix, 16)) / Decimal(2**64)
    below = position.quantize(Decimal("0.01"), rounding="ROUND_FLOOR")
    above = below + Decimal("0.01")
    arms = [assign_arm("early", split(str(share)), loan_id) for share in (below, above)]
    # Challenger exactly when the loan's position lies below the share.
    assert arms == [Arm.CHAMPION, Arm.CHALLENGER]
    # At the position itself the loan is not below the share, so it stays a champion.
    at_position = segment("m1", challenger=(CALL,), challenger_share=position)
    assert assign_arm("early", at_position, loan_id) is Arm.CHAMPION


def test_assign_arm_is_stable_and_keyed_by_strategy_and_segment() -> None:
    half = split("0.5")
    first = [assign_arm("early", half, loan_id) for loan_id in range(1, 201)]
    again = [assign_arm("early", half, loan_id) for loan_id in range(1, 201)]
    other_strategy = [assign_arm("late", half, loan_id) for loan_id in range(1, 201)]
    other_segment = segment("m2", challenger=(CALL,), challenger_share=Decimal("0.5"))
    in_other_segment = [assign_arm("early", other_segment, loan_id) for loan_id in range(1, 201)]
    assert first == again
    # Another strategy or segment hashes to another split: arms are not shared between them.
    assert first != other_strategy
    assert first != in_other_segment


def test_share_zero_is_all_champion_and_share_one_all_challenger() -> None:
    loans = range(1, 5001)
    assert {assign_arm("early", segment("m1"), loan) for loan in loans} == {Arm.CHAMPION}
    assert {assign_arm("early", split("0"), loan) for loan in loans} == {Arm.CHAMPION}
    assert {assign_arm("early", split("1"), loan) for loan in loans} == {Arm.CHALLENGER}


def test_a_share_of_thirty_percent_sends_about_thirty_percent_to_the_challenger() -> None:
    arms = [assign_arm("early", split("0.3"), loan_id) for loan_id in range(1, 10_001)]
    share = arms.count(Arm.CHALLENGER) / len(arms)
    assert 0.28 < share < 0.32


# --- treatment paths ------------------------------------------------------------------------------


def test_next_step_waits_until_the_day_the_wait_ends() -> None:
    path = (SMS, CALL, LETTER)
    assert next_step(path, PathPosition(0, DAY), DAY) == (0, SMS)
    after_sms = PathPosition(1, DAY)
    assert next_step(path, after_sms, DAY + dt.timedelta(days=2)) is None
    assert next_step(path, after_sms, DAY + dt.timedelta(days=3)) == (1, CALL)
    after_call = PathPosition(2, DAY + dt.timedelta(days=3))
    assert next_step(path, after_call, DAY + dt.timedelta(days=9)) is None
    assert next_step(path, after_call, DAY + dt.timedelta(days=10)) == (2, LETTER)
    assert next_step(path, PathPosition(3, DAY), DAY + dt.timedelta(days=365)) is None
    assert next_step((), PathPosition(0, DAY), DAY) is None


def walk(
    path: tuple[TreatmentStep, ...], position: PathPosition, start: dt.date, days: int
) -> list[tuple[dt.date, int]]:
    """Run the path day by day as the daily close does, asking twice a day (a rerun of the
    close must not take another step) and recording the day of each step taken."""
    taken = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        for _ in range(2):
            found = next_step(path, position, day)
            if found is not None:
                index, _step = found
                taken.append((day, index))
                position = PathPosition(index + 1, day)
    return taken


def test_next_step_takes_at_most_one_step_a_day() -> None:
    path = (SMS, TreatmentStep(ActionKind.PUSH), TreatmentStep(ActionKind.EMAIL))
    assert walk(path, PathPosition(0, DAY), DAY, 10) == [
        (DAY, 0),
        (DAY + dt.timedelta(days=1), 1),
        (DAY + dt.timedelta(days=2), 2),
    ]


def test_a_case_back_from_a_pause_gets_no_burst_of_overdue_steps() -> None:
    path = (SMS, TreatmentStep(ActionKind.CALL, 2), TreatmentStep(ActionKind.LETTER, 2))
    # The SMS went out on DAY, then the case paused for ten days (no calls to next_step).
    resumed = DAY + dt.timedelta(days=10)
    assert walk(path, PathPosition(1, DAY), resumed, 10) == [
        (resumed, 1),
        (resumed + dt.timedelta(days=2), 2),
    ]


@pytest.mark.parametrize(
    ("promise", "dispute", "hardship", "reason"),
    [
        (False, False, False, None),
        (True, False, False, ExitCondition.PROMISE_TO_PAY),
        (False, False, True, ExitCondition.HARDSHIP),
        (True, False, True, ExitCondition.HARDSHIP),
        (False, True, False, ExitCondition.DISPUTE),
        (True, True, False, ExitCondition.DISPUTE),
        (False, True, True, ExitCondition.DISPUTE),
        (True, True, True, ExitCondition.DISPUTE),
    ],
)
def test_pause_reason_puts_dispute_before_hardship_before_promise(
    promise: bool, dispute: bool, hardship: bool, reason: ExitCondition | None
) -> None:
    strategy = Strategy("s", 1, (segment(),))
    found = pause_reason(strategy, promise_pending=promise, dispute_open=dispute, hardship=hardship)
    assert found is reason


def test_pause_reason_only_names_what_the_strategy_pauses_on() -> None:
    strategy = Strategy("s", 1, (segment(),), pause_on=frozenset({ExitCondition.PROMISE_TO_PAY}))
    everything = {"promise_pending": True, "dispute_open": True, "hardship": True}
    assert pause_reason(strategy, **everything) is ExitCondition.PROMISE_TO_PAY
    assert pause_reason(strategy, promise_pending=False, dispute_open=True, hardship=True) is None


# --- promises to pay ------------------------------------------------------------------------------

DUE = dt.date(2026, 4, 10)


def judged(
    promised: str, rules: PromiseRules, payments: dict[str, dt.date]
) -> dict[str, PromiseStatus]:
    """The status of a promise of ``promised`` CNY for each (amount paid, day) given."""
    return {
        paid: judge_promise(cny(promised), DUE, cny(paid), day, rules)
        for paid, day in payments.items()
    }


def test_a_promise_with_five_percent_tolerance_at_the_edges() -> None:
    day_before = DUE - dt.timedelta(days=1)
    assert judged(
        "100.00",
        PromiseRules(),
        {"95.00": DUE, "94.99": DUE, "0.00": day_before, "94.98": day_before, "120.00": DUE},
    ) == {
        "95.00": PromiseStatus.KEPT,
        "94.99": PromiseStatus.BROKEN,  # one cent short at the end of the promised date
        "0.00": PromiseStatus.PENDING,
        "94.98": PromiseStatus.PENDING,
        "120.00": PromiseStatus.KEPT,
    }


def test_a_promise_is_kept_early_and_broken_only_at_the_end_of_its_date() -> None:
    rules = PromiseRules(tolerance=Decimal(0))
    early = DUE - dt.timedelta(days=9)
    statuses = [
        judge_promise(cny("100.00"), DUE, cny("100.00"), early, rules),
        judge_promise(cny("100.00"), DUE, cny("99.99"), DUE - dt.timedelta(days=1), rules),
        judge_promise(cny("100.00"), DUE, cny("99.99"), DUE, rules),
        judge_promise(cny("100.00"), DUE, cny("100.00"), DUE, rules),
    ]
    assert statuses == [
        PromiseStatus.KEPT,
        PromiseStatus.PENDING,
        PromiseStatus.BROKEN,
        PromiseStatus.KEPT,
    ]


def test_grace_days_delay_the_break() -> None:
    rules = PromiseRules(grace_days=2)
    days = [DUE + dt.timedelta(days=n) for n in range(4)]
    statuses = [judge_promise(cny("100.00"), DUE, cny("94.99"), day, rules) for day in days]
    assert statuses == [
        PromiseStatus.PENDING,
        PromiseStatus.PENDING,
        PromiseStatus.BROKEN,
        PromiseStatus.BROKEN,
    ]
    assert judge_promise(cny("100.00"), DUE, cny("95.00"), days[2], rules) is PromiseStatus.KEPT


@pytest.mark.parametrize(
    ("promised", "tolerance", "threshold"),
    [
        (cny("100.00"), "0.05", cny("95.00")),
        (cny("333.33"), "0.05", cny("316.67")),  # 316.6635 rounds up
        (cny("0.01"), "0.05", cny("0.01")),  # 0.0095 rounds up to the whole promise
        (cny("0.01"), "0.99", cny("0.01")),
        (cny("100.00"), "0", cny("100.00")),
        (Money.of("1001", "JPY"), "0.05", Money.of("951", "JPY")),  # 950.95
        (Money.of("1.001", "KWD"), "0.1", Money.of("0.901", "KWD")),  # 0.9009
    ],
)
def test_the_threshold_rounds_up(promised: Money, tolerance: str, threshold: Money) -> None:
    assert PromiseRules(tolerance=Decimal(tolerance)).threshold(promised) == threshold


@given(
    st.data(),
    currencies,
    st.decimals(min_value=0, max_value=Decimal("0.9999"), places=4),
)
def test_the_threshold_is_the_least_amount_not_below_the_tolerated_share(
    data: st.DataObject, currency: str, tolerance: Decimal
) -> None:
    promised = data.draw(money(currency, min_minor=1, max_minor=10**12))
    least = promised.amount * (1 - tolerance)
    threshold = PromiseRules(tolerance=tolerance).threshold(promised)
    one_less = Money(threshold.minor - 1, currency)
    assert threshold.amount >= least
    assert one_less.amount < least
    assert threshold <= promised
    rules = PromiseRules(tolerance=tolerance)
    assert judge_promise(promised, DUE, threshold, DUE, rules) is PromiseStatus.KEPT
    assert judge_promise(promised, DUE, one_less, DUE, rules) is PromiseStatus.BROKEN


def test_invalid_promises_and_rules_are_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="positive amount"):
        judge_promise(cny("0.00"), DUE, cny("0.00"), DUE, PromiseRules())
    with pytest.raises(InvalidArgumentError, match="positive amount"):
        judge_promise(cny("-1.00"), DUE, cny("0.00"), DUE, PromiseRules())
    with pytest.raises(CurrencyMismatchError):
        judge_promise(cny("100.00"), DUE, Money.of("100.00", "USD"), DUE, PromiseRules())
    for tolerance in ("1", "-0.01", "1.5"):
        with pytest.raises(InvalidArgumentError, match="tolerance"):
            PromiseRules(tolerance=Decimal(tolerance))
    with pytest.raises(InvalidArgumentError, match="grace days"):
        PromiseRules(grace_days=-1)


# --- the work queue -------------------------------------------------------------------------------


def item(case_id: int, ev: int, *, contactable: bool = True, broken: bool = False) -> QueueItem:
    """A case whose expected value is ``ev`` minor units (balance ev + 100 at 100%, cost 100)."""
    return QueueItem(case_id, ev + 100, Decimal(1), 100, contactable, broken)


def test_queue_order_contactable_then_broken_promise_then_value_then_case_id() -> None:
    items = [
        item(1, 9_000_000, contactable=False),
        item(2, 1_000),
        item(3, 10, broken=True),
        item(4, 1_000),
        item(5, 5, contactable=False, broken=True),
        item(6, 50_000),
        item(7, -50),
    ]
    expected = [3, 6, 2, 4, 7, 5, 1]
    assert [i.case_id for i in queue_order(items)] == expected
    assert [i.case_id for i in queue_order(reversed(items))] == expected


@given(
    st.lists(
        st.builds(
            QueueItem,
            case_id=st.integers(1, 10**6),
            balance_minor=st.integers(0, 10**10),
            propensity=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("0.95"), places=2),
            contact_cost_minor=st.integers(0, 60_000),
            contactable_now=st.booleans(),
            broken_promise=st.booleans(),
        ),
        unique_by=lambda i: i.case_id,
    ),
    st.randoms(use_true_random=False),
)
def test_queue_order_is_a_total_order_independent_of_input_order(
    items: list[QueueItem], random: Any
) -> None:
    ordered = queue_order(items)
    shuffled = list(items)
    random.shuffle(shuffled)
    assert queue_order(shuffled) == ordered
    assert sorted(ordered, key=lambda i: i.case_id) == sorted(items, key=lambda i: i.case_id)
    flags = [(not i.contactable_now, not i.broken_promise) for i in ordered]
    assert flags == sorted(flags)


@pytest.mark.parametrize(
    ("balance", "propensity", "cost", "value"),
    [
        (10_000, "0.45", 200, 4_300),
        (10_001, "0.5", 0, 5_000),  # 5000.5 rounds half to even, down
        (10_003, "0.5", 0, 5_002),  # 5001.5 rounds half to even, up
        (12_345, "0.333", 5, 4_106),  # 4110.885 - 5 = 4105.885
        (100, "0.01", 200, -199),  # a case worth less than its call
        (1, "0.5", 1, 0),  # -0.5 rounds half to even, to zero
        (3, "0.5", 3, -2),  # -1.5 rounds half to even, to -2
    ],
)
def test_expected_value_rounds_half_even(
    balance: int, propensity: str, cost: int, value: int
) -> None:
    queued = QueueItem(1, balance, Decimal(propensity), cost, contactable_now=True)
    assert queued.expected_value_minor == value


@pytest.mark.parametrize(
    ("days_past_due", "kept", "broken", "paid", "rate"),
    [
        (1, 0, 0, False, "0.45"),
        (30, 0, 0, False, "0.45"),
        (31, 0, 0, False, "0.25"),
        (60, 0, 0, False, "0.25"),
        (61, 0, 0, False, "0.12"),
        (90, 0, 0, False, "0.12"),
        (91, 0, 0, False, "0.05"),
        (30, 2, 0, True, "0.65"),
        (30, 9, 0, True, "0.70"),  # kept promises count up to three
        (60, 0, 1, False, "0.20"),
        (91, 0, 9, False, "0.01"),  # 0.05 - 0.15, floored
        (91, 3, 3, True, "0.15"),
    ],
)
def test_heuristic_propensity_table(
    days_past_due: int, kept: int, broken: int, paid: bool, rate: str
) -> None:
    assert heuristic_propensity(days_past_due, kept, broken, paid) == Decimal(rate)


@given(
    st.integers(min_value=-10, max_value=100_000),
    st.integers(min_value=0, max_value=1000),
    st.integers(min_value=0, max_value=1000),
    st.booleans(),
)
def test_heuristic_propensity_stays_in_its_bounds_and_moves_the_right_way(
    days_past_due: int, kept: int, broken: int, paid: bool
) -> None:
    rate = heuristic_propensity(days_past_due, kept, broken, paid)
    assert Decimal("0.01") <= rate <= Decimal("0.95")
    assert heuristic_propensity(days_past_due, kept + 1, broken, paid) >= rate
    assert heuristic_propensity(days_past_due, kept, broken + 1, paid) <= rate
    assert heuristic_propensity(days_past_due, kept, broken, True) >= rate
    assert heuristic_propensity(days_past_due + 1, kept, broken, paid) <= rate


# --- agencies -------------------------------------------------------------------------------------

BANDS = [
    CommissionBand(91, Decimal("0.30")),
    CommissionBand(1, Decimal("0.15")),
    CommissionBand(31, Decimal("0.20")),
]


def test_commission_rate_takes_the_highest_band_reached() -> None:
    rates = {dpd: commission_rate(BANDS, dpd) for dpd in (1, 30, 31, 90, 91, 5000)}
    assert rates == {
        1: Decimal("0.15"),
        30: Decimal("0.15"),
        31: Decimal("0.20"),
        90: Decimal("0.20"),
        91: Decimal("0.30"),
        5000: Decimal("0.30"),
    }


def test_commission_rate_refuses_days_no_band_covers_and_ambiguous_bands() -> None:
    with pytest.raises(InvalidArgumentError, match="no commission band covers 0 days"):
        commission_rate(BANDS, 0)
    late_only = [CommissionBand(61, Decimal("0.25"))]
    with pytest.raises(InvalidArgumentError, match="no commission band covers 60 days"):
        commission_rate(late_only, 60)
    with pytest.raises(InvalidArgumentError, match="no commission band covers"):
        commission_rate([], 30)
    twice = [*BANDS, CommissionBand(31, Decimal("0.22"))]
    with pytest.raises(InvalidArgumentError, match="two commission bands start at 31"):
        commission_rate(twice, 40)


def test_commission_bands_need_a_rate_below_one() -> None:
    assert CommissionBand(1, Decimal(0)).rate == 0
    for rate in ("1", "-0.01"):
        with pytest.raises(InvalidArgumentError, match="share in \\[0, 1\\)"):
            CommissionBand(1, Decimal(rate))


@pytest.mark.parametrize(
    ("flags", "refusal"),
    [
        ([], None),
        (["vip", "restructured"], None),
        (["hardship"], "hardship"),
        (["hardship", "dispute", "vip"], "dispute"),
        (["deceased", "bankruptcy", "deceased"], "bankruptcy"),
    ],
)
def test_placement_refusal_names_the_first_exclusion(flags: list[str], refusal: str | None) -> None:
    assert placement_refusal(flags) == refusal
    assert placement_refusal(iter(flags)) == refusal


@pytest.mark.parametrize(
    ("collected", "rate", "fee"),
    [
        (cny("100.05"), "0.15", cny("15.01")),  # 15.0075
        (cny("0.10"), "0.25", cny("0.02")),  # 0.025 rounds half to even, down
        (cny("0.30"), "0.25", cny("0.08")),  # 0.075 rounds half to even, up
        (cny("0.01"), "0.9999", cny("0.01")),
        (cny("0.00"), "0.30", cny("0.00")),
        (Money.of("1005", "JPY"), "0.1", Money.of("100", "JPY")),  # 100.5
    ],
)
def test_commission_rounds_half_even_to_the_minor_unit(
    collected: Money, rate: str, fee: Money
) -> None:
    assert commission(collected, Decimal(rate)) == fee


def test_no_commission_on_a_refund() -> None:
    with pytest.raises(InvalidArgumentError, match="not on a refund"):
        commission(cny("-10.00"), Decimal("0.2"))


def test_reconcile_agency_statement() -> None:
    collections = [
        AgencyCollection("p1", 11, cny("100.05"), Decimal("0.15")),
        AgencyCollection("p2", 12, cny("0.10"), Decimal("0.25")),
        AgencyCollection("p3", 11, cny("2000.00"), Decimal("0.30")),
    ]
    assert reconcile_agency(collections, "CNY") == AgencyStatement(
        currency="CNY",
        lines=(
            StatementLine("p1", 11, cny("100.05"), Decimal("0.15"), cny("15.01"), cny("85.04")),
            StatementLine("p2", 12, cny("0.10"), Decimal("0.25"), cny("0.02"), cny("0.08")),
            StatementLine("p3", 11, cny("2000.00"), Decimal("0.30"), cny("600.00"), cny("1400.00")),
        ),
        collected=cny("2100.15"),
        commission=cny("615.03"),
        net=cny("1485.12"),
    )
    empty = reconcile_agency([], "CNY")
    assert (empty.lines, empty.collected, empty.commission, empty.net) == (
        (),
        cny("0"),
        cny("0"),
        cny("0"),
    )


@given(st.data(), currencies)
def test_every_statement_line_splits_exactly_and_the_totals_are_the_sums(
    data: st.DataObject, currency: str
) -> None:
    collections = data.draw(agency_collections(currency))
    statement = reconcile_agency(collections, currency)
    assert [(line.reference, line.collected, line.rate) for line in statement.lines] == [
        (c.reference, c.amount, c.rate) for c in collections
    ]
    for line in statement.lines:
        assert line.collected == line.commission + line.net
        assert Money.zero(currency) <= line.commission <= line.collected
        assert line.commission == commission(line.collected, line.rate)
    assert statement.collected == Money.sum((line.collected for line in statement.lines), currency)
    assert statement.commission == Money.sum((ln.commission for ln in statement.lines), currency)
    assert statement.net == Money.sum((line.net for line in statement.lines), currency)
    assert statement.collected == statement.commission + statement.net


@given(st.data(), currencies, commission_rates)
def test_a_payment_in_another_currency_is_refused(
    data: st.DataObject, currency: str, rate: Decimal
) -> None:
    collections = data.draw(agency_collections(currency))
    other = "USD" if currency != "USD" else "CNY"
    stray = AgencyCollection("stray", 1, Money(100, other), rate)
    position = data.draw(st.integers(min_value=0, max_value=len(collections)))
    collections.insert(position, stray)
    with pytest.raises(InvalidArgumentError, match=f"stray is in {other}, not {currency}"):
        reconcile_agency(collections, currency)


# --- legal recovery -------------------------------------------------------------------------------

#: The design, written out: the forward track, and settlement or closing from any open stage.
ALLOWED_MOVES = {
    ("referred", "demand_letter"),
    ("demand_letter", "filed"),
    ("filed", "hearing"),
    ("hearing", "judgment"),
    ("judgment", "enforcement"),
    *((stage, "settlement") for stage in ("referred", "demand_letter", "filed", "hearing")),
    *((stage, "settlement") for stage in ("judgment", "enforcement")),
    *((stage, "closed") for stage in ("referred", "demand_letter", "filed", "hearing")),
    *((stage, "closed") for stage in ("judgment", "enforcement", "settlement")),
}

AWARD = Judgment(cny("10000.00"), cny("800.00"), cny("350.00"), costs_to_borrower=True)


def test_the_transition_table_is_the_design() -> None:
    table = {(a.value, b.value) for a, targets in LEGAL_TRANSITIONS.items() for b in targets}
    assert table == ALLOWED_MOVES
    assert set(LEGAL_TRANSITIONS) == set(LegalStage)


@pytest.mark.parametrize("target", list(LegalStage))
@pytest.mark.parametrize("stage", list(LegalStage))
def test_a_legal_move_is_allowed_exactly_when_the_table_allows_it(
    stage: LegalStage, target: LegalStage
) -> None:
    award = AWARD if target is LegalStage.JUDGMENT else None
    state = LegalState(stage=stage, judgment=AWARD if stage is LegalStage.ENFORCEMENT else None)
    if (stage.value, target.value) in ALLOWED_MOVES:
        moved = legal_transition(state, target, judgment=award)
        assert moved == LegalState(target, Preservation.NONE, award or state.judgment)
    else:
        with pytest.raises(InvalidTransitionError, match=f"from {stage} to {target}"):
            legal_transition(state, target, judgment=award)


def test_a_judgment_carries_its_award_and_only_a_judgment_does() -> None:
    hearing = LegalState(LegalStage.HEARING, Preservation.GRANTED)
    with pytest.raises(InvalidArgumentError, match="needs its amount, costs and interest"):
        legal_transition(hearing, LegalStage.JUDGMENT)
    with pytest.raises(InvalidArgumentError, match="only a judgment carries an award"):
        legal_transition(hearing, LegalStage.SETTLEMENT, judgment=AWARD)
    judged_case = legal_transition(hearing, LegalStage.JUDGMENT, judgment=AWARD)
    enforced = legal_transition(judged_case, LegalStage.ENFORCEMENT)
    released = preservation_transition(enforced, Preservation.RELEASED)
    closed = legal_transition(released, LegalStage.CLOSED)
    assert [judged_case, enforced, closed] == [
        LegalState(LegalStage.JUDGMENT, Preservation.GRANTED, AWARD),
        LegalState(LegalStage.ENFORCEMENT, Preservation.GRANTED, AWARD),
        LegalState(LegalStage.CLOSED, Preservation.RELEASED, AWARD),
    ]
    assert AWARD.total == cny("11150.00")


def test_a_judgment_refuses_negative_or_mixed_amounts() -> None:
    with pytest.raises(InvalidArgumentError, match="cannot be negative"):
        Judgment(cny("100.00"), cny("-1.00"), cny("0.00"), costs_to_borrower=False)
    with pytest.raises(InvalidArgumentError, match="one currency"):
        Judgment(cny("100.00"), Money.of("1.00", "USD"), cny("0.00"), costs_to_borrower=False)


@pytest.mark.parametrize(
    "stage", [s for s in LegalStage if LegalStage.CLOSED in LEGAL_TRANSITIONS[s]]
)
@pytest.mark.parametrize("preservation", [Preservation.GRANTED, Preservation.REQUESTED])
def test_a_case_with_assets_held_or_asked_for_does_not_close(
    stage: LegalStage, preservation: Preservation
) -> None:
    judgment = AWARD if stage in (LegalStage.JUDGMENT, LegalStage.ENFORCEMENT) else None
    state = LegalState(stage, preservation, judgment)
    with pytest.raises(InvalidTransitionError, match=r"preserv.* before closing the case"):
        legal_transition(state, LegalStage.CLOSED)
    settled = preservation_transition(
        state,
        Preservation.RELEASED if preservation is Preservation.GRANTED else Preservation.REFUSED,
    )
    assert legal_transition(settled, LegalStage.CLOSED).stage is LegalStage.CLOSED


#: Preservation moves, written out: request, then granted or refused; granted assets released;
#: a refused or released preservation may be asked for again.
ALLOWED_PRESERVATION = {
    ("none", "requested"),
    ("requested", "granted"),
    ("requested", "refused"),
    ("granted", "released"),
    ("refused", "requested"),
    ("released", "requested"),
}


@pytest.mark.parametrize("target", list(Preservation))
@pytest.mark.parametrize("current", list(Preservation))
def test_preservation_moves_follow_their_table(current: Preservation, target: Preservation) -> None:
    table = {(a.value, b.value) for a, bs in PRESERVATION_TRANSITIONS.items() for b in bs}
    assert table == ALLOWED_PRESERVATION
    state = LegalState(LegalStage.FILED, current)
    if (current.value, target.value) in ALLOWED_PRESERVATION:
        assert preservation_transition(state, target) == LegalState(LegalStage.FILED, target)
    else:
        with pytest.raises(InvalidTransitionError, match=f"from {current} to {target}"):
            preservation_transition(state, target)


@pytest.mark.parametrize(
    ("stage", "allowed"),
    [
        (LegalStage.REFERRED, False),
        (LegalStage.DEMAND_LETTER, True),
        (LegalStage.FILED, True),
        (LegalStage.HEARING, True),
        (LegalStage.JUDGMENT, True),
        (LegalStage.ENFORCEMENT, True),
        (LegalStage.SETTLEMENT, False),
        (LegalStage.CLOSED, False),
    ],
)
def test_preservation_may_be_requested_from_the_demand_until_enforcement(
    stage: LegalStage, allowed: bool
) -> None:
    state = LegalState(stage)
    if allowed:
        assert preservation_transition(state, Preservation.REQUESTED).preservation is (
            Preservation.REQUESTED
        )
    else:
        with pytest.raises(InvalidTransitionError, match=f"cannot be requested at {stage}"):
            preservation_transition(state, Preservation.REQUESTED)


def test_a_settling_case_can_still_have_its_preservation_decided_and_released() -> None:
    state = LegalState(LegalStage.SETTLEMENT, Preservation.REQUESTED)
    granted = preservation_transition(state, Preservation.GRANTED)
    released = preservation_transition(granted, Preservation.RELEASED)
    assert legal_transition(released, LegalStage.CLOSED) == LegalState(
        LegalStage.CLOSED, Preservation.RELEASED
    )


def move(
    state: LegalState, target: LegalStage | Preservation, award: Judgment | None
) -> LegalState:
    if isinstance(target, LegalStage):
        return legal_transition(state, target, judgment=award)
    return preservation_transition(state, target)


@given(st.data())
def test_a_random_walk_never_leaves_the_tables(data: st.DataObject) -> None:
    state = LegalState()
    judged = False
    for _ in range(data.draw(st.integers(min_value=0, max_value=30), label="length")):
        # Mostly a move the tables offer from here (so walks go deep), sometimes any move.
        offered: list[LegalStage | Preservation] = sorted(
            {*LEGAL_TRANSITIONS[state.stage], *PRESERVATION_TRANSITIONS[state.preservation]}
        )
        target = data.draw(st.sampled_from(offered), label="target")
        if data.draw(st.integers(0, 3), label="any move") == 0:
            target = data.draw(legal_moves, label="target")
        # The award goes with a judgment, except when the walk tries the wrong way round.
        award = AWARD if (target is LegalStage.JUDGMENT) != data.draw(st.booleans()) else None
        before = state
        try:
            state = move(state, target, award)
        except (InvalidTransitionError, InvalidArgumentError):
            continue
        assert before.stage is not LegalStage.CLOSED, f"a closed case moved to {state}"
        if isinstance(target, LegalStage):
            assert state.stage in LEGAL_TRANSITIONS[before.stage]
            assert state.preservation is before.preservation
            judged = judged or target is LegalStage.JUDGMENT
        else:
            assert state.preservation in PRESERVATION_TRANSITIONS[before.preservation]
            assert state.stage is before.stage
        assert (state.judgment is not None) is judged
        if state.stage is LegalStage.CLOSED:
            assert state.preservation not in (Preservation.GRANTED, Preservation.REQUESTED)
    if state.stage is LegalStage.CLOSED:
        # Closed is terminal: every move of either kind is refused.
        every: list[LegalStage | Preservation] = [*LegalStage, *Preservation]
        for target in every:
            for award in (None, AWARD):
                with pytest.raises((InvalidTransitionError, InvalidArgumentError)):
                    move(state, target, award)


# --- champion against challenger: intervals -------------------------------------------------------


#: Wilson intervals as published to four places: Newcombe (1998), Statistics in Medicine 17,
#: 857-872, table I (81/263, 15/148, 0/20, 1/29), and the textbook 50/100, 0/10, 1/10.
@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        (50, 100, 0.4038, 0.5962),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (1, 10, 0.0179, 0.4042),
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_proportion_interval_matches_wilson(
    successes: int, trials: int, low: float, high: float
) -> None:
    interval = proportion_interval(successes, trials)
    assert interval is not None
    assert interval.estimate == successes / trials
    assert (interval.low, interval.high) == pytest.approx((low, high), abs=5e-5)


def test_proportion_interval_without_trials_or_with_impossible_counts() -> None:
    assert proportion_interval(0, 0) is None
    for successes in (-1, 11):
        with pytest.raises(InvalidArgumentError, match="between 0 and the number of trials"):
            proportion_interval(successes, 10)


@given(st.integers(min_value=1, max_value=10**6), st.data())
def test_a_proportion_lies_inside_its_interval_within_zero_and_one(
    trials: int, data: st.DataObject
) -> None:
    successes = data.draw(st.integers(min_value=0, max_value=trials))
    interval = proportion_interval(successes, trials)
    assert interval is not None
    assert 0.0 <= interval.low <= interval.estimate <= interval.high <= 1.0


def test_mean_interval() -> None:
    assert mean_interval([]) is None
    assert mean_interval([5.0]) == Interval(5.0, 5.0, 5.0)
    interval = mean_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    assert interval is not None
    # Sample variance 2.5, standard error sqrt(2.5 / 5); 1.959964 of them either side.
    half = 1.959963984540054 * (2.5 / 5) ** 0.5
    assert (interval.estimate, interval.low, interval.high) == pytest.approx(
        (3.0, 3.0 - half, 3.0 + half)
    )
    assert interval.low == pytest.approx(1.6140962, abs=1e-6)
    constant = mean_interval([7.0, 7.0, 7.0])
    assert constant == Interval(7.0, 7.0, 7.0)
