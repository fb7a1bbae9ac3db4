"""Metro 2 and PBOC-style records: the fixed-width layout, the month-by-month derivations and
the rules bureaus check."""

from __future__ import annotations

import dataclasses
import datetime as dt
from itertools import pairwise
from typing import Any

import pytest

from tenor.core.bureau import (
    BASE_LAYOUT,
    HEADER_LAYOUT,
    J1_LAYOUT,
    J2_LAYOUT,
    K1_LAYOUT,
    TRAILER_LAYOUT,
    AccountRecord,
    Address,
    BaseSegment,
    BureauFormatError,
    Consumer,
    Dispute,
    HeaderRecord,
    J1Segment,
    J2Segment,
    K1Segment,
    MonthFacts,
    PbocAccountStatus,
    SpecialTransaction,
    compliance_condition,
    decode_account,
    decode_file,
    encode_account,
    encode_file,
    layout_length,
    metro2_months,
    month_end,
    month_ends,
    pboc_months,
    status_for_days_past_due,
    validate_base,
)
from tenor.core.delinquency import LoanClass
from tenor.core.money import Money

USD = "USD"
FIRST = dt.date(2025, 1, 31)


def usd(amount: int) -> Money:
    return Money(amount * 100, USD)


def month(index: int) -> dt.date:
    """The month end ``index`` months after January 2025."""
    year, zero_based = divmod(index, 12)
    return month_end(2025 + year, zero_based + 1)


def facts(index: int, dpd: int = 0, **changes: Any) -> MonthFacts:
    """One month's facts: open, ``dpd`` days past due, a 1000 balance unless changed."""
    end = month(index)
    values: dict[str, Any] = {
        "month_end": end,
        "opened": True,
        "days_past_due": dpd,
        "oldest_unpaid_due_date": end - dt.timedelta(days=dpd) if dpd else None,
        "balance": usd(1000),
        "past_due": usd(100) if dpd else usd(0),
        "scheduled_payment": usd(100),
        "paid_in_month": usd(0) if dpd else usd(100),
        "last_payment_on": None,
        "closed_on": None,
        "written_off_on": None,
        "written_off": usd(0),
        "loan_class": LoanClass.NORMAL if not dpd else LoanClass.SPECIAL_MENTION,
        "due_in_month": True,
    }
    values.update(changes)
    return MonthFacts(**values)


# --- layout ----------------------------------------------------------------------------------


def test_every_layout_has_its_length_and_no_gaps() -> None:
    for layout, length in (
        (HEADER_LAYOUT, 426),
        (BASE_LAYOUT, 426),
        (TRAILER_LAYOUT, 426),
        (J1_LAYOUT, 100),
        (J2_LAYOUT, 200),
        (K1_LAYOUT, 34),
    ):
        assert layout_length(layout) == length
        for before, after in pairwise(layout):
            assert after.start == before.end + 1, (before.name, after.name)


CONSUMER = Consumer(
    surname="DOE",
    first_name="JANE",
    social_security_number=123456789,
    date_of_birth=dt.date(1990, 3, 7),
    telephone_number=5551234567,
)
ADDRESS = Address(
    first_line_address="1 MAIN ST", city="SPRINGFIELD", state="IL", postal_code="62701"
)


def base(**changes: Any) -> BaseSegment:
    values: dict[str, Any] = {
        "identification_number": "TENOR0001",
        "consumer_account_number": "42",
        "portfolio_type": "I",
        "account_type": "01",
        "date_opened": dt.date(2025, 1, 15),
        "highest_credit": 6000,
        "terms_duration": "006",
        "terms_frequency": "M",
        "scheduled_monthly_payment": 1053,
        "actual_payment": 0,
        "account_status": "71",
        "payment_rating": "",
        "payment_history_profile": "0" * 2 + "B" * 22,
        "current_balance": 5120,
        "amount_past_due": 1053,
        "original_charge_off_amount": 0,
        "date_of_account_information": dt.date(2025, 3, 31),
        "date_of_first_delinquency": dt.date(2025, 3, 17),
        "date_closed": None,
        "date_of_last_payment": dt.date(2025, 2, 15),
        "consumer": CONSUMER,
        "address": ADDRESS,
        "time_stamp": dt.datetime.combine(dt.date(2025, 4, 1), dt.time(9, 30, 5)),
    }
    values.update(changes)
    return BaseSegment(**values)


def test_a_base_segment_sits_at_its_field_positions() -> None:
    text = encode_account(AccountRecord(base=base()))
    assert len(text) == 426
    assert text[0:4] == "0426"
    assert text[123:125] == "71"  # account status, positions 124-125
    assert text[126:150] == "00" + "B" * 22  # payment history profile, 127-150
    assert text[154:163] == "000005120"  # current balance, 155-163
    assert text[181:189] == "03312025"  # date of account information, 182-189
    assert text[231:256] == "DOE".ljust(25)  # surname, 232-256
    assert text[297:306] == "123456789"  # SSN, 298-306


def test_a_record_with_segments_round_trips_by_field_position() -> None:
    other = dataclasses.replace(CONSUMER, surname="ROE", first_name="JOHN", ecoa_code="2")
    record = AccountRecord(
        base=base(),
        j1=(J1Segment(consumer=other),),
        j2=(J2Segment(consumer=other, address=dataclasses.replace(ADDRESS, city="CHICAGO")),),
        k1=K1Segment(original_creditor_name="FIRST BANK", creditor_classification=2),
    )
    text = encode_account(record)
    assert len(text) == 426 + 100 + 200 + 34
    assert text[0:4] == "0760"
    assert decode_account(text) == record


def test_a_file_round_trips_and_its_trailer_counts_statuses_and_segments() -> None:
    header = HeaderRecord(
        activity_date=dt.date(2025, 3, 31),
        date_created=dt.date(2025, 4, 1),
        reporter_name="TENOR LENDING",
        reporter_address="1 MAIN ST SPRINGFIELD IL",
    )
    records = [
        AccountRecord(base=base()),
        AccountRecord(
            base=base(account_status="11", amount_past_due=0, date_of_first_delinquency=None),
            j1=(J1Segment(consumer=CONSUMER),),
        ),
        AccountRecord(base=base(consumer_account_number="43")),
    ]
    parsed = decode_file(encode_file(header, records))
    assert parsed.header == header
    assert list(parsed.records) == records
    trailer = parsed.trailer
    assert trailer.total_base_records == 3
    assert trailer.block_count == 5
    assert dict(trailer.status_counts) == {"71": 2, "11": 1}
    assert trailer.total_j1_segments == 1
    assert trailer.total_ssn_base_segments == 3
    assert trailer.total_ssn_j1_segments == 1
    assert trailer.total_dob_base_segments == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"surname": "张"}, "cannot carry"),
        ({"surname": "X" * 26}, "longer than its 25"),
    ],
)
def test_a_value_that_does_not_fit_its_field_is_refused(
    change: dict[str, Any], message: str
) -> None:
    record = AccountRecord(base=base(consumer=dataclasses.replace(CONSUMER, **change)))
    with pytest.raises(BureauFormatError, match=message):
        encode_account(record)


def test_a_negative_amount_is_refused() -> None:
    with pytest.raises(BureauFormatError, match="whole number from 0"):
        encode_account(AccountRecord(base=base(current_balance=-1)))


def test_a_line_of_the_wrong_length_or_constant_is_refused() -> None:
    text = encode_account(AccountRecord(base=base()))
    with pytest.raises(BureauFormatError, match="descriptor word"):
        decode_account(text + "J1")
    with pytest.raises(BureauFormatError, match="not numeric"):
        decode_account(text[:154] + "ABCDEFGHI" + text[163:])


# --- status, rating, profile and DOFD, month by month ----------------------------------------


def test_status_for_each_band_of_days_past_due() -> None:
    bands = {0: "11", 29: "11", 30: "71", 59: "71", 60: "78", 90: "80", 120: "82", 150: "83"}
    bands |= {179: "83", 180: "84", 400: "84"}
    assert {dpd: status_for_days_past_due(dpd) for dpd in bands} == bands


def test_a_loan_through_every_status_to_paid_after_charge_off() -> None:
    """Current, 30, 60 ... 180+, charged off, then paid in full after the charge-off."""
    oldest = month(1) + dt.timedelta(days=1)
    months = [facts(0), facts(1)]
    for index, dpd in enumerate((30, 60, 90, 120, 150, 180), start=2):
        months.append(facts(index, dpd, oldest_unpaid_due_date=oldest))
    written_off = {"written_off_on": month(8) - dt.timedelta(days=5), "written_off": usd(900)}
    months.append(facts(8, 200, oldest_unpaid_due_date=oldest, balance=usd(900), **written_off))
    months.append(facts(9, 230, oldest_unpaid_due_date=oldest, balance=usd(0), **written_off))
    result = metro2_months(months)
    assert [m.account_status for m in result] == [
        "11", "11", "71", "78", "80", "82", "83", "84", "97", "64",
    ]  # fmt: skip
    assert result[-1].payment_history_profile == "L65432100" + "B" * 15
    assert all(m.payment_rating == "" for m in result)
    dofd = oldest + dt.timedelta(days=30)
    assert [m.date_of_first_delinquency for m in result[2:]] == [dofd] * 8


def test_a_cured_account_clears_its_dofd_and_a_new_delinquency_starts_a_new_one() -> None:
    first_missed = month(1) + dt.timedelta(days=1)
    second_missed = month(4) + dt.timedelta(days=1)
    result = metro2_months(
        [
            facts(0),
            facts(1),
            facts(2, 30, oldest_unpaid_due_date=first_missed),
            facts(3, 0),
            facts(4, 0),
            facts(5, 30, oldest_unpaid_due_date=second_missed),
            facts(6, 61, oldest_unpaid_due_date=second_missed),
        ]
    )
    assert [m.account_status for m in result] == ["11", "11", "71", "11", "11", "71", "78"]
    assert [m.date_of_first_delinquency for m in result] == [
        None,
        None,
        first_missed + dt.timedelta(days=30),
        None,
        None,
        second_missed + dt.timedelta(days=30),
        second_missed + dt.timedelta(days=30),
    ]


def test_the_profile_shifts_one_month_at_a_time() -> None:
    months = [facts(i, 30 if i % 5 == 4 else 0) for i in range(30)]
    result = metro2_months(months)
    for earlier, later in pairwise(result):
        assert len(later.payment_history_profile) == 24
        assert later.payment_history_profile[0] == earlier.profile_character
        assert later.payment_history_profile[1:] == earlier.payment_history_profile[:-1]
    assert result[0].payment_history_profile == "B" * 24
    assert result[5].payment_history_profile == "10000" + "B" * 19


def test_months_before_opening_are_b_in_the_profile() -> None:
    result = metro2_months([facts(0, opened=False), facts(1), facts(2)])
    assert result[2].payment_history_profile == "0B" + "B" * 22
    assert result[0].account_status == ""


def test_paid_off_while_late_is_13_rated_with_the_late_band_and_keeps_its_dofd() -> None:
    missed = month(1) + dt.timedelta(days=1)
    closed: dict[str, Any] = {"closed_on": month(3) - dt.timedelta(days=3), "balance": usd(0)}
    result = metro2_months(
        [facts(0), facts(1), facts(2, 31, oldest_unpaid_due_date=missed), facts(3, **closed)]
    )
    last = result[-1]
    assert (last.account_status, last.payment_rating) == ("13", "1")
    assert last.date_of_first_delinquency == missed + dt.timedelta(days=30)
    assert last.profile_character == "E"


def test_paid_off_while_current_is_13_rated_0_without_dofd() -> None:
    closed: dict[str, Any] = {"closed_on": month(2) - dt.timedelta(days=3), "balance": usd(0)}
    last = metro2_months([facts(0), facts(1), facts(2, **closed)])[-1]
    assert (last.account_status, last.payment_rating, last.date_of_first_delinquency) == (
        "13",
        "0",
        None,
    )


def test_collections_is_93_and_paid_after_collections_is_62() -> None:
    result = metro2_months(
        [
            facts(0),
            facts(1, 10, collections=True),
            facts(2, collections=True, balance=usd(0), closed_on=month(2)),
        ]
    )
    assert [m.account_status for m in result] == ["11", "93", "62"]
    assert result[1].date_of_first_delinquency is not None
    assert result[2].date_of_first_delinquency == result[1].date_of_first_delinquency


# --- validation ------------------------------------------------------------------------------

REPORTING_MONTH = dt.date(2025, 3, 31)


def test_a_good_base_segment_passes() -> None:
    assert validate_base(base(), REPORTING_MONTH) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"payment_rating": "1"}, "takes no payment rating"),
        (
            {"account_status": "13", "current_balance": 0, "amount_past_due": 0},
            "needs a payment rating",
        ),
        ({"payment_history_profile": "0" * 23}, "exactly 24"),
        ({"payment_history_profile": "0B0" + "B" * 21}, "B before its end"),
        ({"payment_history_profile": "X" + "B" * 23}, "outside"),
        (
            {"account_status": "11", "date_of_first_delinquency": None},
            "amount past due must be 0",
        ),
        ({"account_status": "97"}, "original charge-off amount"),
        ({"date_of_first_delinquency": None}, "needs a date of first delinquency"),
        (
            {"account_status": "11", "amount_past_due": 0},
            "must not carry a date of first delinquency",
        ),
        ({"date_of_account_information": dt.date(2025, 4, 1)}, "not within the reporting month"),
        ({"compliance_condition_code": "ZZ"}, "compliance condition code"),
        ({"account_status": "99"}, "not one Tenor reports"),
        ({"consumer": dataclasses.replace(CONSUMER, surname=" ")}, "surname is missing"),
        (
            {
                "consumer": dataclasses.replace(
                    CONSUMER, social_security_number=0, date_of_birth=None
                )
            },
            "social security number or a date of birth",
        ),
    ],
)
def test_each_rule_bureaus_check(changes: dict[str, Any], message: str) -> None:
    problems = validate_base(base(**changes), REPORTING_MONTH)
    assert any(message in problem for problem in problems), problems


# --- disputes --------------------------------------------------------------------------------


def test_xb_while_disputed_then_xh_in_the_month_resolved_then_nothing() -> None:
    dispute = Dispute(dt.date(2025, 2, 10), dt.date(2025, 4, 3))
    codes = [compliance_condition([dispute], month(i)) for i in range(5)]
    assert codes == ["", "XB", "XB", "XH", ""]


def test_xc_when_the_consumer_disagrees() -> None:
    dispute = Dispute(dt.date(2025, 2, 10), dt.date(2025, 2, 20), consumer_disagrees=True)
    assert compliance_condition([dispute], month(1)) == "XC"
    assert compliance_condition([dispute], month(2)) == ""


# --- PBOC-style ------------------------------------------------------------------------------


def test_pboc_characters_strings_and_statuses() -> None:
    months = [
        facts(0, opened=False),
        facts(1),
        facts(2, due_in_month=False),
        facts(3, 15),
        facts(4, 45),
        facts(5, 200, loan_class=LoanClass.DOUBTFUL),
        facts(6, 400, loan_class=LoanClass.LOSS),
        facts(7, 430, written_off_on=month(7), written_off=usd(900), balance=usd(900)),
        facts(8, written_off_on=month(7), written_off=usd(900), balance=usd(0)),
    ]
    result = pboc_months(months)
    assert "".join(m.status_character for m in result) == "/N*1277GC"
    assert result[-1].history_24 == "/" * 15 + "/N*1277GC"
    assert len(result[-1].history_60) == 60
    assert [m.account_status for m in result] == [
        None,
        PbocAccountStatus.NORMAL,
        PbocAccountStatus.NORMAL,
        PbocAccountStatus.OVERDUE,
        PbocAccountStatus.OVERDUE,
        PbocAccountStatus.OVERDUE,
        PbocAccountStatus.BAD_DEBT,
        PbocAccountStatus.WRITTEN_OFF,
        PbocAccountStatus.SETTLED,
    ]


def test_pboc_special_transactions() -> None:
    months = [
        facts(0, prepaid_in_month=usd(500)),
        facts(1, guarantor_paid_in_month=True),
        facts(2, asset_paid_in_month=True),
        facts(3),
    ]
    result = pboc_months(months, extended=[month(3) - dt.timedelta(days=2)])
    assert [m.special_transactions for m in result] == [
        (SpecialTransaction.PREPAYMENT,),
        (SpecialTransaction.GUARANTOR_REPAID,),
        (SpecialTransaction.REPAID_WITH_ASSETS,),
        (SpecialTransaction.EXTENSION,),
    ]
    assert "".join(m.status_character for m in result) == "NDZN"


def test_month_ends_cover_each_month_once() -> None:
    ends = month_ends(dt.date(2024, 11, 15), dt.date(2025, 2, 1))
    assert ends == [
        dt.date(2024, 11, 30),
        dt.date(2024, 12, 31),
        dt.date(2025, 1, 31),
        dt.date(2025, 2, 28),
    ]
    assert month(0) == FIRST
