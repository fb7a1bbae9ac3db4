"""The contact-rule engine: may this borrower be contacted on this channel at this instant?

One pure function, :func:`check`, answers for reminders and collections alike. Its rules are
data (:class:`Profile`), one profile per jurisdiction's rulebook:

- ``us-regf``: US Regulation F (12 CFR 1006). No communication before 8 a.m. or after 9 p.m.
  at the consumer's local time (9 p.m. itself is still allowed); at most 7 call attempts within
  7 consecutive days per debt; no call within 7 days after a telephone conversation about the
  debt, the conversation's date being day 1; an opted-out channel is never used; an email or a
  text must carry an opt-out notice (returned as a condition of :class:`Allowed`).
- ``cn-nifa-2024``: the 2024 NIFA guideline on internet-finance post-loan collection. No contact
  from 22:00 to 08:00 local time; at most 3 connected voice calls a day per debtor, everyone who
  collects counted together (the history holds them all); the debtor's contacts (address book,
  emergency contacts) are never collected from.
- ``cn-cba-2026``: the 2026 China Banking Association guideline on consumer-loan collection.
  No contact of any form from 22:00 to 08:00 unless the borrower consented to it; at most 6
  unanswered calls a day to the same person; a third party only when the debtor is unreachable,
  only to obtain contact details, never told of the debt (conditions of :class:`Allowed`).

Days and hours are the borrower's local ones (``zoneinfo``), so "a day" and "8 a.m." follow
daylight-saving changes. A borrower without a time zone gets the stricter reading: the contact
must be allowed in every time zone the profile's jurisdiction spans.

``next_allowed_at`` is the first instant at which every rule allows the same contact again
(given the same history), or None when no passing of time helps (an opt-out).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, Final
from zoneinfo import ZoneInfo

from tenor.core.errors import InvalidArgumentError

#: The person a past or planned contact reached: the debtor, or anyone else.
DEBTOR: Final = "debtor"


class Channel(StrEnum):
    """How a borrower is contacted."""

    CALL = "call"
    SMS = "sms"
    EMAIL = "email"
    PUSH = "push"
    VISIT = "visit"


@dataclass(frozen=True, slots=True)
class Contact:
    """A contact someone wants to make: its channel, the debt it is about and whom it reaches.

    ``person`` is :data:`DEBTOR` or the name of a third party (an emergency contact, a
    relative); ``debt`` is the loan's reference, None when it is about no particular debt.
    """

    channel: Channel
    debt: str | None = None
    person: str = DEBTOR

    @property
    def third_party(self) -> bool:
        """Whether the contact reaches someone other than the debtor."""
        return self.person != DEBTOR


@dataclass(frozen=True, slots=True)
class PastContact:
    """A contact that happened: a call attempt (connected or not), a text, a visit..."""

    at: dt.datetime
    channel: Channel
    debt: str | None = None
    connected: bool = False
    conversation: bool = False
    person: str = DEBTOR

    def __post_init__(self) -> None:
        _require_aware(self.at, "a past contact's time")


@dataclass(frozen=True, slots=True)
class BorrowerContext:
    """What the rules need to know of the borrower.

    ``time_zone`` is an IANA name or None (then the stricter reading applies); ``opt_outs`` are
    the channels the borrower refused; ``night_consent`` is consent to contact in quiet hours
    (only profiles that allow it look at it).
    """

    time_zone: str | None = None
    opt_outs: frozenset[Channel] = frozenset()
    night_consent: bool = False


@dataclass(frozen=True, slots=True)
class Profile:
    """A jurisdiction's contact rules as data.

    Quiet hours run from ``quiet_from`` to ``quiet_until`` local time; with
    ``quiet_from_inclusive`` false the instant ``quiet_from`` itself is still allowed (Reg F's
    "after 9 p.m."). Each cap is None where the rulebook has none.
    """

    name: str
    time_zones: tuple[str, ...]
    quiet_from: dt.time
    quiet_until: dt.time
    quiet_from_inclusive: bool = True
    night_consent_lifts_quiet_hours: bool = False
    #: (attempts, consecutive days): call attempts per debt (Reg F's 7 in 7).
    call_attempts_per_debt: tuple[int, int] | None = None
    #: Days, counting the conversation's date as day 1, with no call after a conversation.
    days_after_conversation: int | None = None
    #: Connected calls a local day per debtor, every collector together.
    connected_calls_per_day: int | None = None
    #: Unanswered calls a local day to the same person.
    unanswered_calls_per_day_per_person: int | None = None
    #: "never", "when-unreachable" or "location-only".
    third_parties: str = "location-only"
    #: Unanswered debtor attempts in the last 7 days, none connected, that make a debtor
    #: unreachable (for "when-unreachable").
    unreachable_after_attempts: int = 3
    #: Channels whose every message must carry an opt-out notice.
    opt_out_notice_channels: frozenset[Channel] = frozenset()


PROFILES: Final[dict[str, Profile]] = {
    "us-regf": Profile(
        name="us-regf",
        time_zones=(
            "America/New_York",
            "America/Chicago",
            "America/Denver",
            "America/Phoenix",
            "America/Los_Angeles",
            "America/Anchorage",
            "Pacific/Honolulu",
        ),
        quiet_from=dt.time(21, 0),
        quiet_until=dt.time(8, 0),
        quiet_from_inclusive=False,
        call_attempts_per_debt=(7, 7),
        days_after_conversation=7,
        third_parties="location-only",
        opt_out_notice_channels=frozenset({Channel.EMAIL, Channel.SMS}),
    ),
    "cn-nifa-2024": Profile(
        name="cn-nifa-2024",
        # Xinjiang keeps its own clock beside Beijing time; the stricter reading honours both.
        time_zones=("Asia/Shanghai", "Asia/Urumqi"),
        quiet_from=dt.time(22, 0),
        quiet_until=dt.time(8, 0),
        connected_calls_per_day=3,
        third_parties="never",
    ),
    "cn-cba-2026": Profile(
        name="cn-cba-2026",
        time_zones=("Asia/Shanghai", "Asia/Urumqi"),
        quiet_from=dt.time(22, 0),
        quiet_until=dt.time(8, 0),
        night_consent_lifts_quiet_hours=True,
        unanswered_calls_per_day_per_person=6,
        third_parties="when-unreachable",
    ),
}


@dataclass(frozen=True, slots=True)
class Allowed:
    """The contact may happen now, under ``conditions`` (such as ``opt_out_notice``)."""

    conditions: tuple[str, ...] = ()

    allowed: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class Refused:
    """The contact may not happen now: which ``rule`` refused it, why, and when it may."""

    rule: str
    reason: str
    next_allowed_at: dt.datetime | None

    allowed: ClassVar[bool] = False


Decision = Allowed | Refused


@dataclass(frozen=True, slots=True)
class _Verdict:
    rule: str
    reason: str
    # None: time alone never lifts the refusal.
    retry_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class _Situation:
    contact: Contact
    history: Sequence[PastContact]
    borrower: BorrowerContext
    profile: Profile
    zone: ZoneInfo
    conditions: list[str] = field(default_factory=list)


_Rule = Callable[[_Situation, dt.datetime], _Verdict | None]

#: How many times check() moves to a later instant looking for one every rule allows.
_MAX_STEPS: Final = 64


def profile(name: str) -> Profile:
    """The profile called ``name``; InvalidArgumentError naming the known ones otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        raise InvalidArgumentError(
            f"unknown contact profile {name!r}; use one of {known}"
        ) from None


def check(
    contact: Contact,
    history: Iterable[PastContact],
    borrower: BorrowerContext,
    profile: Profile,
    at: dt.datetime,
) -> Decision:
    """Whether ``contact`` may happen at ``at`` (an aware instant) under ``profile``.

    Refusals name the first rule that refused, in the order opt-out, third party, quiet hours,
    caps; ``next_allowed_at`` is the first later instant every rule allows, in the borrower's
    time zone (UTC without one), or None when only the borrower or the facts can lift it.
    """
    _require_aware(at, "the contact's time")
    past = tuple(history)
    zones = (borrower.time_zone,) if borrower.time_zone else profile.time_zones
    situations = [
        _Situation(contact, past, borrower, profile, _zone(name)) for name in sorted(set(zones))
    ]
    first = _verdict(situations, at)
    if first is None:
        conditions = sorted({c for situation in situations for c in situation.conditions})
        return Allowed(tuple(conditions))
    shown = ZoneInfo(borrower.time_zone) if borrower.time_zone else dt.UTC
    return Refused(first.rule, first.reason, _next_allowed(situations, first, shown))


def _verdict(situations: Sequence[_Situation], at: dt.datetime) -> _Verdict | None:
    """The first refusal at ``at`` in any of the situations (one per time zone), or None."""
    refusals = []
    for situation in situations:
        situation.conditions.clear()
        for rule in _RULES:
            verdict = rule(situation, at)
            if verdict is not None:
                refusals.append(verdict)
                break
    if not refusals:
        return None
    if any(r.retry_at is None for r in refusals):
        return next(r for r in refusals if r.retry_at is None)
    return max(refusals, key=lambda r: r.retry_at or at)


def _next_allowed(
    situations: Sequence[_Situation], first: _Verdict, shown: dt.tzinfo
) -> dt.datetime | None:
    verdict: _Verdict | None = first
    for _ in range(_MAX_STEPS):
        if verdict is None or verdict.retry_at is None:
            break
        candidate = verdict.retry_at
        verdict = _verdict(situations, candidate)
        if verdict is None:
            return candidate.astimezone(shown)
    return None


# --- the rules --------------------------------------------------------------------------------


def _opt_out(s: _Situation, _at: dt.datetime) -> _Verdict | None:
    if s.contact.channel in s.borrower.opt_outs:
        return _Verdict(
            "opt_out", f"the borrower opted out of {s.contact.channel.value} contact", None
        )
    return None


def _third_party(s: _Situation, at: dt.datetime) -> _Verdict | None:
    if not s.contact.third_party:
        return None
    policy = s.profile.third_parties
    if policy == "never":
        return _Verdict(
            "third_party",
            f"{s.profile.name} never collects from the debtor's contacts",
            None,
        )
    if policy == "when-unreachable" and not _debtor_unreachable(s, at):
        return _Verdict(
            "third_party",
            "a third party may be contacted only when the debtor is unreachable "
            f"({s.profile.unreachable_after_attempts} unanswered attempts in 7 days, none "
            "connected)",
            None,
        )
    s.conditions.extend(["location_only", "no_debt_disclosure"])
    return None


def _debtor_unreachable(s: _Situation, at: dt.datetime) -> bool:
    since = at - dt.timedelta(days=7)
    recent = [c for c in s.history if c.person == DEBTOR and since < c.at <= at]
    attempts = [c for c in recent if c.channel is Channel.CALL]
    return len(attempts) >= s.profile.unreachable_after_attempts and not any(
        c.connected for c in recent
    )


def _quiet_hours(s: _Situation, at: dt.datetime) -> _Verdict | None:
    p = s.profile
    if p.night_consent_lifts_quiet_hours and s.borrower.night_consent:
        return None
    local = at.astimezone(s.zone)
    clock = local.timetz().replace(tzinfo=None)
    late = clock >= p.quiet_from if p.quiet_from_inclusive else clock > p.quiet_from
    early = clock < p.quiet_until
    if not (late or early):
        return None
    day = local.date() + dt.timedelta(days=1) if late else local.date()
    reopen = _local_instant(day, p.quiet_until, s.zone)
    window = f"{p.quiet_from:%H:%M}-{p.quiet_until:%H:%M}"
    return _Verdict(
        "quiet_hours",
        f"{local:%H:%M} in {s.zone.key} is within the quiet hours {window}",
        reopen,
    )


def _calls(s: _Situation, *, person: str | None = None) -> list[PastContact]:
    return [
        c for c in s.history if c.channel is Channel.CALL and (person is None or c.person == person)
    ]


def _about_debt(s: _Situation, past: PastContact) -> bool:
    # A contact about no particular debt counts against every debt (the stricter reading).
    return s.contact.debt is None or past.debt is None or past.debt == s.contact.debt


def _call_attempts(s: _Situation, at: dt.datetime) -> _Verdict | None:
    cap = s.profile.call_attempts_per_debt
    if cap is None or s.contact.channel is not Channel.CALL:
        return None
    attempts, days = cap
    today = at.astimezone(s.zone).date()
    first_day = today - dt.timedelta(days=days - 1)
    dates = sorted(
        day
        for c in _calls(s, person=s.contact.person)
        if _about_debt(s, c)
        and first_day <= (day := c.at.astimezone(s.zone).date()) <= today
        and c.at <= at
    )
    if len(dates) < attempts:
        return None
    # The window must lose enough of its oldest days for one more attempt to fit.
    reopen_day = dates[len(dates) - attempts] + dt.timedelta(days=days)
    return _Verdict(
        "call_frequency",
        f"{len(dates)} call attempts about this debt in the {days} days to {today}; "
        f"at most {attempts}",
        _local_instant(reopen_day, dt.time(0), s.zone),
    )


def _after_conversation(s: _Situation, at: dt.datetime) -> _Verdict | None:
    days = s.profile.days_after_conversation
    if days is None or s.contact.channel is not Channel.CALL:
        return None
    today = at.astimezone(s.zone).date()
    talks = [
        c.at.astimezone(s.zone).date()
        for c in s.history
        if c.conversation and c.person == DEBTOR and _about_debt(s, c) and c.at <= at
    ]
    recent = [day for day in talks if today < day + dt.timedelta(days=days)]
    if not recent:
        return None
    last = max(recent)
    return _Verdict(
        "after_conversation",
        f"a telephone conversation about this debt on {last}; no call for {days} days "
        "counting that day",
        _local_instant(last + dt.timedelta(days=days), dt.time(0), s.zone),
    )


def _daily_call_cap(
    s: _Situation, at: dt.datetime, cap: int | None, *, connected: bool, rule: str
) -> _Verdict | None:
    if cap is None or s.contact.channel is not Channel.CALL:
        return None
    local = at.astimezone(s.zone)
    person = DEBTOR if connected else s.contact.person
    today = [
        c
        for c in _calls(s, person=person)
        if c.connected is connected
        and c.at.astimezone(s.zone).date() == local.date()
        and c.at <= at
    ]
    if len(today) < cap:
        return None
    kind = "connected" if connected else "unanswered"
    return _Verdict(
        rule,
        f"{len(today)} {kind} calls on {local.date()} already; at most {cap} a day",
        _local_instant(local.date() + dt.timedelta(days=1), dt.time(0), s.zone),
    )


def _connected_calls(s: _Situation, at: dt.datetime) -> _Verdict | None:
    return _daily_call_cap(
        s, at, s.profile.connected_calls_per_day, connected=True, rule="connected_calls_per_day"
    )


def _unanswered_calls(s: _Situation, at: dt.datetime) -> _Verdict | None:
    return _daily_call_cap(
        s,
        at,
        s.profile.unanswered_calls_per_day_per_person,
        connected=False,
        rule="unanswered_calls_per_day",
    )


def _opt_out_notice(s: _Situation, _at: dt.datetime) -> _Verdict | None:
    if s.contact.channel in s.profile.opt_out_notice_channels:
        s.conditions.append("opt_out_notice")
    return None


_RULES: Final[tuple[_Rule, ...]] = (
    _opt_out,
    _third_party,
    _quiet_hours,
    _after_conversation,
    _call_attempts,
    _connected_calls,
    _unanswered_calls,
    _opt_out_notice,
)


# --- time -------------------------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError) as error:
        raise InvalidArgumentError(f"unknown time zone {name!r}; use an IANA name") from error


def _require_aware(at: dt.datetime, what: str) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidArgumentError(f"{what} needs a UTC offset or a time zone: {at.isoformat()}")


def _local_instant(day: dt.date, clock: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The first instant at or after ``clock`` on local ``day``; DST gaps move it forward."""
    # zoneinfo reads a wall time inside a gap with the offset before it, which lands just
    # after the gap: the first instant the clock shows at or after ``clock``.
    return dt.datetime.combine(day, clock, tzinfo=zone).astimezone(dt.UTC)
