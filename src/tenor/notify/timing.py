"""Smart timing: a Thompson-sampling bandit over (channel, hour slot) arms per borrower.

Each arm keeps a Beta posterior of "the borrower paid within 48 hours of a reminder sent on
this channel in this hour slot". To choose, draw once from every allowed arm's posterior and
take the best draw. A borrower's own counts are added to a population prior (the pooled counts
of every borrower, shrunk to :data:`POPULATION_WEIGHT` pseudo-observations), so that a new
borrower starts from what works for most people rather than from nothing; a borrower with no
history at all gets the policy's default channel and hour. Randomness comes from the caller's
seeded ``random.Random``, so a run can be replayed.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenor.notify.tables import TimingArm
from tenor.store.bulk import among

#: Weight, in pseudo-observations, of the population's experience in each borrower's prior.
POPULATION_WEIGHT: Final = 4.0

#: Hours after a reminder within which a payment rewards it.
REWARD_HOURS: Final = 48

Arm = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Counts:
    """Successes and failures of one arm."""

    successes: float = 0.0
    failures: float = 0.0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.successes + other.successes, self.failures + other.failures)


def population_prior(pooled: Mapping[Arm, Counts]) -> dict[Arm, Counts]:
    """The pooled counts of every borrower, each arm shrunk to POPULATION_WEIGHT observations."""
    prior = {}
    for arm, counts in pooled.items():
        total = counts.successes + counts.failures
        share = POPULATION_WEIGHT / total if total > POPULATION_WEIGHT else 1.0
        prior[arm] = Counts(counts.successes * share, counts.failures * share)
    return prior


def has_history(own: Mapping[Arm, Counts]) -> bool:
    """Whether a borrower's arms hold any outcome (without one, :func:`choose` draws nothing)."""
    return any(c.successes or c.failures for c in own.values())


def choose(
    candidates: Sequence[Arm],
    own: Mapping[Arm, Counts],
    prior: Mapping[Arm, Counts],
    default: Arm,
    rng: random.Random,
) -> Arm:
    """The arm to use: Thompson sampling over ``candidates``, or ``default`` with no history.

    ``default`` is used as it is when the borrower has no history and it is a candidate; with
    no history and the default excluded (an opted-out channel), the first candidate.
    """
    if not candidates:
        raise ValueError("choose() needs at least one candidate arm")
    if not has_history(own):
        return default if default in candidates else candidates[0]
    best, best_draw = candidates[0], -1.0
    for arm in candidates:
        counts = own.get(arm, Counts()) + prior.get(arm, Counts())
        draw = rng.betavariate(1.0 + counts.successes, 1.0 + counts.failures)
        if draw > best_draw:
            best, best_draw = arm, draw
    return best


def slot_of(hour: int, slots: Sequence[int]) -> int:
    """The slot (its start hour) that ``hour`` falls in; the first slot before all of them."""
    starts = [start for start in sorted(slots) if start <= hour]
    return starts[-1] if starts else min(slots)


# --- storage ----------------------------------------------------------------------------------


def load_arms(session: Session, borrower_ids: Iterable[int]) -> dict[int, dict[Arm, Counts]]:
    """Every listed borrower's arms."""
    ids = sorted(set(borrower_ids))
    arms: dict[int, dict[Arm, Counts]] = {borrower: {} for borrower in ids}
    for condition in among(session, TimingArm.borrower_id, ids):
        rows = session.execute(
            select(
                TimingArm.borrower_id,
                TimingArm.channel,
                TimingArm.hour,
                TimingArm.successes,
                TimingArm.failures,
            ).where(condition)
        )
        for borrower_id, channel, hour, successes, failures in rows:
            arms[borrower_id][(channel, hour)] = Counts(successes, failures)
    return arms


def load_population(session: Session) -> dict[Arm, Counts]:
    """The pooled counts of every borrower, per arm."""
    rows = session.execute(
        select(
            TimingArm.channel,
            TimingArm.hour,
            func.sum(TimingArm.successes),
            func.sum(TimingArm.failures),
        ).group_by(TimingArm.channel, TimingArm.hour)
    )
    return {
        (channel, hour): Counts(float(wins or 0), float(losses or 0))
        for channel, hour, wins, losses in rows
    }


def reward(session: Session, borrower_id: int, arm: Arm, *, paid: bool) -> None:
    """Count one reminder's outcome on its arm."""
    channel, hour = arm
    row = session.get(TimingArm, (borrower_id, channel, hour))
    if row is None:
        row = TimingArm(
            borrower_id=borrower_id, channel=channel, hour=hour, successes=0, failures=0
        )
        session.add(row)
    if paid:
        row.successes += 1
    else:
        row.failures += 1
