"""Simulated borrowers with hidden contact preferences, for the smart-timing benchmark and
the demo book.

Each simulated borrower reads one channel more than the others and at one time of day more
than at others (hidden from Tenor), pays some installments on time unprompted, and pays a
reminded installment at once with a chance that is highest on their preferred channel in
their preferred hour slot. :func:`simulate` lives through a book month by month with a
reminder policy that picks (channel, hour slot) for each reminder, and reports the on-time
payment rate. Every draw comes from ``random.Random`` seeded per borrower and month, so two
policies meet exactly the same book (common random numbers).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from tenor.notify import timing

CHANNELS: Final = ("sms", "push")
HOURS: Final = (9, 12, 15, 18)
#: Offsets (days from due) of the reminders before and on the due date.
OFFSETS: Final = (-3, -1, 0)


@dataclass(frozen=True, slots=True)
class HiddenPreference:
    """What a simulated borrower responds to, unknown to Tenor."""

    channel: str
    hour: int
    unprompted: float
    responsiveness: float

    def response(self, arm: timing.Arm) -> float:
        """The chance a reminder on ``arm`` makes the borrower pay at once."""
        channel, hour = arm
        if channel == self.channel and hour == self.hour:
            return self.responsiveness
        if channel == self.channel:
            return self.responsiveness * 0.35
        if hour == self.hour:
            return self.responsiveness * 0.25
        return self.responsiveness * 0.1


def hidden_preference(rng: random.Random) -> HiddenPreference:
    """One borrower's hidden preference: most read SMS; evenings and lunch are favourites."""
    return HiddenPreference(
        channel=rng.choices(CHANNELS, weights=(0.6, 0.4))[0],
        hour=rng.choices(HOURS, weights=(0.2, 0.3, 0.15, 0.35))[0],
        unprompted=rng.uniform(0.35, 0.75),
        responsiveness=rng.uniform(0.3, 0.7),
    )


@dataclass
class Outcome:
    """What a policy achieved on the simulated book."""

    installments: int = 0
    on_time: int = 0
    reminders: int = 0
    on_preferred_arm: int = 0
    by_month: list[float] = field(default_factory=list)

    @property
    def on_time_rate(self) -> float:
        """Share of installments paid by their due date."""
        return self.on_time / self.installments if self.installments else 0.0


def simulate(
    borrowers: int, months: int, seed: int, *, learned: bool, default: timing.Arm = ("sms", 9)
) -> Outcome:
    """Live through ``months`` installments of ``borrowers`` simulated borrowers.

    ``learned``: the Thompson-sampling bandit of :mod:`tenor.notify.timing` (each borrower's
    own counts over a population prior); otherwise the fixed-time policy at ``default``.
    """
    people = [hidden_preference(random.Random(f"{seed}:pref:{b}")) for b in range(borrowers)]
    arms: list[dict[timing.Arm, timing.Counts]] = [{} for _ in range(borrowers)]
    candidates: Sequence[timing.Arm] = [(c, h) for c in CHANNELS for h in HOURS]
    choosers = [random.Random(f"{seed}:bandit:{b}") for b in range(borrowers)]
    outcome = Outcome()
    for month in range(months):
        pooled: dict[timing.Arm, timing.Counts] = {}
        for own in arms:
            for arm, counts in own.items():
                pooled[arm] = pooled.get(arm, timing.Counts()) + counts
        prior = timing.population_prior(pooled)
        on_time_this_month = 0
        for b, person in enumerate(people):
            world = random.Random(f"{seed}:world:{b}:{month}")
            paid_on: int | None = (
                world.randint(-5, 0) if world.random() < person.unprompted else None
            )
            draws = [world.random() for _ in OFFSETS]
            for offset, draw in zip(OFFSETS, draws, strict=True):
                if paid_on is not None and paid_on < offset:
                    break  # the stop condition: paid
                arm = (
                    timing.choose(candidates, arms[b], prior, default, choosers[b])
                    if learned
                    else default
                )
                outcome.reminders += 1
                outcome.on_preferred_arm += arm == (person.channel, person.hour)
                if draw < person.response(arm):
                    paid_on = offset if paid_on is None else min(paid_on, offset)
                success = paid_on is not None and offset <= paid_on <= offset + 1
                counts = arms[b].get(arm, timing.Counts())
                arms[b][arm] = counts + timing.Counts(float(success), float(not success))
            outcome.installments += 1
            if paid_on is not None and paid_on <= 0:
                outcome.on_time += 1
                on_time_this_month += 1
        outcome.by_month.append(on_time_this_month / borrowers)
    return outcome
