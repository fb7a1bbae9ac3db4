"""The timing bandit: the policy default without history, learning towards what pays, and
the learned policy beating fixed-time reminders on a small simulated book."""

from __future__ import annotations

import random

import pytest

from tenor.notify.simulated import simulate
from tenor.notify.timing import Counts, choose, population_prior, slot_of

ARMS = [(channel, hour) for channel in ("sms", "push") for hour in (9, 12, 15, 18)]


def test_no_history_falls_back_to_the_policy_default() -> None:
    rng = random.Random(1)
    assert choose(ARMS, {}, {}, ("sms", 9), rng) == ("sms", 9)
    without_sms = [arm for arm in ARMS if arm[0] == "push"]
    assert choose(without_sms, {}, {}, ("sms", 9), rng) == ("push", 9)
    with pytest.raises(ValueError, match="at least one"):
        choose([], {}, {}, ("sms", 9), rng)


def test_thompson_sampling_favours_the_arm_that_pays() -> None:
    own = {arm: Counts(2, 8) for arm in ARMS} | {("push", 18): Counts(16, 4)}
    picks = [choose(ARMS, own, {}, ("sms", 9), random.Random(n)) for n in range(200)]
    assert picks.count(("push", 18)) > 150
    # An untried arm still gets explored: its posterior is wide.
    fresh = {arm: counts for arm, counts in own.items() if arm != ("sms", 12)}
    picks = [choose(ARMS, fresh, {}, ("sms", 9), random.Random(n)) for n in range(200)]
    assert picks.count(("sms", 12)) > 5


def test_the_population_prior_is_shrunk() -> None:
    prior = population_prior({("sms", 9): Counts(300, 100), ("push", 12): Counts(1, 1)})
    assert prior[("sms", 9)] == Counts(3.0, 1.0)
    assert prior[("push", 12)] == Counts(1, 1)


def test_slots() -> None:
    assert [slot_of(hour, (9, 12, 15, 18)) for hour in (8, 9, 11, 12, 20)] == [9, 9, 9, 12, 18]


def test_the_learned_policy_pays_on_time_more_often_on_the_same_book() -> None:
    fixed = simulate(300, 8, seed=3, learned=False)
    learned = simulate(300, 8, seed=3, learned=True)
    assert fixed.installments == learned.installments == 2400
    assert learned.on_time_rate > fixed.on_time_rate
    assert learned.on_preferred_arm / learned.reminders > fixed.on_preferred_arm / fixed.reminders
