"""The contact-rule engine: quiet hours, caps, opt-outs and third parties for each profile,
at the edges, across time zones and daylight-saving changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tenor.core.contact import (
    PROFILES,
    Allowed,
    BorrowerContext,
    Channel,
    Contact,
    PastContact,
    Refused,
    check,
    profile,
)
from tenor.core.errors import InvalidArgumentError

NY = ZoneInfo("America/New_York")
SH = ZoneInfo("Asia/Shanghai")
US = PROFILES["us-regf"]
NIFA = PROFILES["cn-nifa-2024"]
CBA = PROFILES["cn-cba-2026"]
IN_NY = BorrowerContext(time_zone="America/New_York")
IN_SH = BorrowerContext(time_zone="Asia/Shanghai")
CALL = Contact(Channel.CALL, debt="L1")


def ny(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=NY)


def sh(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SH)


@pytest.mark.parametrize(
    ("at", "allowed"),
    [
        (ny(2026, 3, 2, 7, 59, 59), False),
        (ny(2026, 3, 2, 8, 0), True),
        (ny(2026, 3, 2, 20, 30), True),
        (ny(2026, 3, 2, 21, 0), True),
        (ny(2026, 3, 2, 21, 0, 1), False),
    ],
)
def test_reg_f_hours_at_the_edges(at: dt.datetime, allowed: bool) -> None:
    assert check(CALL, [], IN_NY, US, at).allowed is allowed


def test_reg_f_late_evening_reopens_at_eight_next_morning_local() -> None:
    decision = check(CALL, [], IN_NY, US, ny(2026, 3, 2, 21, 30))
    assert decision == Refused(
        "quiet_hours",
        "21:30 in America/New_York is within the quiet hours 21:00-08:00",
        ny(2026, 3, 3, 8, 0),
    )


def test_quiet_hours_follow_the_spring_forward_change() -> None:
    # 8 March 2026: New York skips from 02:00 to 03:00; 08:00 is then 12:00 UTC, not 13:00.
    decision = check(CALL, [], IN_NY, US, ny(2026, 3, 8, 1, 30))
    assert isinstance(decision, Refused)
    assert decision.next_allowed_at == dt.datetime(2026, 3, 8, 12, 0, tzinfo=dt.UTC)
    assert check(CALL, [], IN_NY, US, dt.datetime(2026, 3, 8, 12, 0, tzinfo=dt.UTC)).allowed
    assert not check(CALL, [], IN_NY, US, dt.datetime(2026, 3, 8, 11, 59, tzinfo=dt.UTC)).allowed


def test_quiet_hours_follow_the_fall_back_change() -> None:
    # 1 November 2026: New York goes back to EST, so 08:00 is 13:00 UTC again.
    decision = check(CALL, [], IN_NY, US, dt.datetime(2026, 11, 1, 12, 30, tzinfo=dt.UTC))
    assert isinstance(decision, Refused)
    assert decision.next_allowed_at == dt.datetime(2026, 11, 1, 13, 0, tzinfo=dt.UTC)


def test_the_same_instant_is_allowed_in_one_zone_and_quiet_in_another() -> None:
    at = dt.datetime(2026, 3, 3, 1, 30, tzinfo=dt.UTC)  # 20:30 New York, 17:30 Los Angeles
    assert check(CALL, [], IN_NY, US, at).allowed
    la = BorrowerContext(time_zone="America/Los_Angeles")
    assert check(CALL, [], la, US, at).allowed
    honolulu = BorrowerContext(time_zone="Pacific/Honolulu")
    early = dt.datetime(2026, 3, 3, 17, 30, tzinfo=dt.UTC)  # 12:30 NY, 07:30 Honolulu
    assert check(CALL, [], IN_NY, US, early).allowed
    assert not check(CALL, [], honolulu, US, early).allowed


def test_without_a_time_zone_the_stricter_reading_applies() -> None:
    unknown = BorrowerContext()
    at = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)  # 09:00 New York, 04:00 Honolulu
    decision = check(CALL, [], unknown, US, at)
    assert isinstance(decision, Refused)
    assert decision.rule == "quiet_hours"
    # 08:00 in Honolulu, the last of the US zones to reach it (UTC-10).
    assert decision.next_allowed_at == dt.datetime(2026, 3, 2, 18, 0, tzinfo=dt.UTC)
    # 20:59 Beijing is 18:59 in Urumqi: fine; 21:30 Urumqi (23:30 Beijing) is not.
    assert check(CALL, [], BorrowerContext(), CBA, sh(2026, 3, 2, 20, 59)).allowed
    assert not check(CALL, [], BorrowerContext(), CBA, sh(2026, 3, 2, 23, 30)).allowed
    assert not check(CALL, [], BorrowerContext(), CBA, sh(2026, 3, 2, 9, 30)).allowed


def calls(
    *times: dt.datetime, debt: str = "L1", connected: bool = False, conversation: bool = False
) -> list[PastContact]:
    return [
        PastContact(
            at=at, channel=Channel.CALL, debt=debt, connected=connected, conversation=conversation
        )
        for at in times
    ]


def test_reg_f_seven_attempts_in_seven_days_per_debt() -> None:
    week = calls(*(ny(2026, 3, day, 10) for day in range(1, 8)))
    decision = check(CALL, week, IN_NY, US, ny(2026, 3, 7, 15))
    assert isinstance(decision, Refused)
    assert decision.rule == "call_frequency"
    # 1 March drops out of the window on 8 March; at 08:00, the hours allow it.
    assert decision.next_allowed_at == ny(2026, 3, 8, 8, 0)
    assert check(CALL, week[1:], IN_NY, US, ny(2026, 3, 7, 15)).allowed
    other_debt = Contact(Channel.CALL, debt="L2")
    assert check(other_debt, week, IN_NY, US, ny(2026, 3, 7, 15)).allowed
    assert check(Contact(Channel.SMS, debt="L1"), week, IN_NY, US, ny(2026, 3, 7, 15)).allowed


def test_reg_f_no_call_within_seven_days_after_a_conversation() -> None:
    talk = calls(ny(2026, 3, 2, 10), connected=True, conversation=True)
    for day in range(2, 9):
        decision = check(CALL, talk, IN_NY, US, ny(2026, 3, day, 12))
        assert isinstance(decision, Refused), day
        assert decision.rule == "after_conversation"
        assert decision.next_allowed_at == ny(2026, 3, 9, 8, 0)
    assert check(CALL, talk, IN_NY, US, ny(2026, 3, 9, 8)).allowed
    assert check(Contact(Channel.EMAIL, debt="L1"), talk, IN_NY, US, ny(2026, 3, 3, 12)).allowed


def test_opt_outs_are_never_lifted_and_texts_carry_an_opt_out() -> None:
    no_sms = BorrowerContext(time_zone="America/New_York", opt_outs=frozenset({Channel.SMS}))
    decision = check(Contact(Channel.SMS), [], no_sms, US, ny(2026, 3, 2, 12))
    assert decision == Refused("opt_out", "the borrower opted out of sms contact", None)
    for name in PROFILES:
        assert not check(
            Contact(Channel.SMS), [], no_sms, PROFILES[name], ny(2026, 3, 2, 12)
        ).allowed
    email = check(Contact(Channel.EMAIL), [], IN_NY, US, ny(2026, 3, 2, 12))
    assert email == Allowed(("opt_out_notice",))


@pytest.mark.parametrize(("rules", "edge"), [(NIFA, 22), (CBA, 22)])
def test_chinese_quiet_hours_at_the_edges(rules: object, edge: int) -> None:
    assert check(CALL, [], IN_SH, rules, sh(2026, 3, 2, 21, 59, 59)).allowed  # type: ignore[arg-type]
    refused = check(CALL, [], IN_SH, rules, sh(2026, 3, 2, edge, 0))  # type: ignore[arg-type]
    assert isinstance(refused, Refused)
    assert refused.next_allowed_at == sh(2026, 3, 3, 8, 0)
    assert not check(CALL, [], IN_SH, rules, sh(2026, 3, 3, 7, 59, 59)).allowed  # type: ignore[arg-type]
    assert check(CALL, [], IN_SH, rules, sh(2026, 3, 3, 8, 0)).allowed  # type: ignore[arg-type]


def test_night_consent_lifts_quiet_hours_only_under_cba() -> None:
    consenting = BorrowerContext(time_zone="Asia/Shanghai", night_consent=True)
    assert check(CALL, [], consenting, CBA, sh(2026, 3, 2, 23)).allowed
    assert not check(CALL, [], consenting, NIFA, sh(2026, 3, 2, 23)).allowed


def test_nifa_three_connected_calls_a_day_per_debtor_whatever_the_debt() -> None:
    three = [
        *calls(sh(2026, 3, 2, 9), sh(2026, 3, 2, 11), connected=True),
        *calls(sh(2026, 3, 2, 13), debt="L9", connected=True),
    ]
    decision = check(CALL, three, IN_SH, NIFA, sh(2026, 3, 2, 15))
    assert isinstance(decision, Refused)
    assert decision.rule == "connected_calls_per_day"
    assert decision.next_allowed_at == sh(2026, 3, 3, 8, 0)
    unanswered = calls(*(sh(2026, 3, 2, hour) for hour in range(9, 15)))
    assert check(CALL, [*three[:2], *unanswered], IN_SH, NIFA, sh(2026, 3, 2, 15)).allowed


def test_nifa_never_collects_from_the_debtors_contacts() -> None:
    sister = Contact(Channel.CALL, debt="L1", person="emergency contact")
    decision = check(sister, [], IN_SH, NIFA, sh(2026, 3, 2, 10))
    assert isinstance(decision, Refused)
    assert (decision.rule, decision.next_allowed_at) == ("third_party", None)


def test_cba_six_unanswered_calls_a_day_to_the_same_person() -> None:
    six = calls(*(sh(2026, 3, 2, hour) for hour in range(9, 15)))
    decision = check(CALL, six, IN_SH, CBA, sh(2026, 3, 2, 16))
    assert isinstance(decision, Refused)
    assert decision.rule == "unanswered_calls_per_day"
    assert check(CALL, six[:5], IN_SH, CBA, sh(2026, 3, 2, 16)).allowed
    assert check(CALL, six, IN_SH, CBA, sh(2026, 3, 3, 8)).allowed


def test_cba_third_party_only_when_the_debtor_is_unreachable_and_never_told() -> None:
    brother = Contact(Channel.CALL, debt="L1", person="brother")
    assert not check(brother, [], IN_SH, CBA, sh(2026, 3, 5, 10)).allowed
    unanswered = calls(sh(2026, 3, 2, 10), sh(2026, 3, 3, 10), sh(2026, 3, 4, 10))
    decision = check(brother, unanswered, IN_SH, CBA, sh(2026, 3, 5, 10))
    assert decision == Allowed(("location_only", "no_debt_disclosure"))
    answered = [*unanswered, *calls(sh(2026, 3, 4, 12), connected=True)]
    assert not check(brother, answered, IN_SH, CBA, sh(2026, 3, 5, 10)).allowed


def test_bad_input_is_refused_with_a_clear_error() -> None:
    with pytest.raises(InvalidArgumentError, match="unknown contact profile 'eu'"):
        profile("eu")
    with pytest.raises(InvalidArgumentError, match="needs a UTC offset"):
        check(CALL, [], IN_NY, US, dt.datetime(2026, 3, 2, 12))  # noqa: DTZ001
    with pytest.raises(InvalidArgumentError, match="unknown time zone"):
        check(CALL, [], BorrowerContext(time_zone="Mars/Olympus"), US, ny(2026, 3, 2, 12))
