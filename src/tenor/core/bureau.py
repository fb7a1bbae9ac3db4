"""Credit-bureau records: Metro 2 (CDIA, US bureaus) and PBOC-style monthly records (China).

Pure: every function here takes a loan's month-end facts and returns records; the shell reads
the journal, builds the facts with :func:`tenor.core.account.fold` and
:func:`tenor.core.delinquency.assess`, and writes files.

Metro 2
    The 426-character character format: a header record, one base segment per account (with
    any J1, J2 and K1 segments appended to its logical record) and a trailer record with the
    file's totals. Every field sits at a fixed position; alphanumeric fields are upper case,
    left-justified and blank-filled, numeric fields right-justified and zero-filled, dates
    MMDDYYYY (zeros when absent), money in whole units with the cents truncated.
    :func:`encode` writes a record by field position and :func:`decode` reads one back, so a
    written file can be checked field by field.

    :func:`metro2_months` derives, month by month, what bureaus read: the account status, the
    payment rating, the 24-month payment history profile and the date of first delinquency
    (DOFD). :func:`validate_base` checks a base segment against the rules bureaus apply; the
    shell refuses to write a file with any record that breaks them.

PBOC-style
    :func:`pboc_months` gives, per loan and month, the repayment status character, the 24- and
    60-month strings (oldest month first, as the credit report prints them), the account status
    (正常, 逾期, 结清, 呆账, 核销), the five-level class and the special transactions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from tenor.core.delinquency import LoanClass
from tenor.core.errors import DomainError
from tenor.core.money import Money, exponent


class BureauFormatError(DomainError):
    """A value does not fit its Metro 2 field, or a line is not a record of the layout."""

    code = "bureau_format"


# ---------------------------------------------------------------------------------------------
# Months


def month_end(year: int, month: int) -> dt.date:
    """The last day of ``year``-``month``."""
    first_of_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_of_next - dt.timedelta(days=1)


def month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    """The month ends from the month of ``first`` through the month of ``last``, in order."""
    ends = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        ends.append(month_end(year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return ends


def whole_units(amount: Money) -> int:
    """``amount`` in whole units of its currency, the cents truncated (Metro 2's rule)."""
    unit: int = 10 ** exponent(amount.currency)
    return amount.minor // unit


# ---------------------------------------------------------------------------------------------
# Fixed-width layout


class Fill(StrEnum):
    """How a field is written: its type and its fill."""

    ALPHANUMERIC = "A"  # upper case, left-justified, blank-filled
    NUMERIC = "N"  # right-justified, zero-filled
    DATE = "D"  # MMDDYYYY, zeros when absent
    TIMESTAMP = "T"  # MMDDYYYYHHMMSS, zeros when absent


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a record: its name, 1-based start position, length and fill."""

    name: str
    start: int
    length: int
    fill: Fill = Fill.ALPHANUMERIC
    #: The value a constant field (record identifier, descriptor) always holds.
    constant: str | int | None = None

    @property
    def end(self) -> int:
        """The last position of the field, inclusive."""
        return self.start + self.length - 1


_A, _N, _D, _T = Fill.ALPHANUMERIC, Fill.NUMERIC, Fill.DATE, Fill.TIMESTAMP

#: Metro 2 character-format header record (426).
HEADER_LAYOUT: Final = (
    Field("record_descriptor_word", 1, 4, _N, 426),
    Field("record_identifier", 5, 6, _A, "HEADER"),
    Field("cycle_identifier", 11, 2),
    Field("innovis_program_identifier", 13, 10),
    Field("equifax_program_identifier", 23, 10),
    Field("experian_program_identifier", 33, 5),
    Field("transunion_program_identifier", 38, 10),
    Field("activity_date", 48, 8, _D),
    Field("date_created", 56, 8, _D),
    Field("program_date", 64, 8, _D),
    Field("program_revision_date", 72, 8, _D),
    Field("reporter_name", 80, 40),
    Field("reporter_address", 120, 96),
    Field("reporter_telephone_number", 216, 10, _N),
    Field("software_vendor_name", 226, 40),
    Field("software_version_number", 266, 5),
    Field("prbc_program_identifier", 271, 10),
    Field("reserved", 281, 146, _A, ""),
)

#: Metro 2 character-format base segment (426).
BASE_LAYOUT: Final = (
    Field("record_descriptor_word", 1, 4, _N),
    Field("processing_indicator", 5, 1, _N),
    Field("time_stamp", 6, 14, _T),
    Field("correction_indicator", 20, 1, _N),
    Field("identification_number", 21, 20),
    Field("cycle_identifier", 41, 2),
    Field("consumer_account_number", 43, 30),
    Field("portfolio_type", 73, 1),
    Field("account_type", 74, 2),
    Field("date_opened", 76, 8, _D),
    Field("credit_limit", 84, 9, _N),
    Field("highest_credit", 93, 9, _N),
    Field("terms_duration", 102, 3),
    Field("terms_frequency", 105, 1),
    Field("scheduled_monthly_payment", 106, 9, _N),
    Field("actual_payment", 115, 9, _N),
    Field("account_status", 124, 2),
    Field("payment_rating", 126, 1),
    Field("payment_history_profile", 127, 24),
    Field("special_comment", 151, 2),
    Field("compliance_condition_code", 153, 2),
    Field("current_balance", 155, 9, _N),
    Field("amount_past_due", 164, 9, _N),
    Field("original_charge_off_amount", 173, 9, _N),
    Field("date_of_account_information", 182, 8, _D),
    Field("date_of_first_delinquency", 190, 8, _D),
    Field("date_closed", 198, 8, _D),
    Field("date_of_last_payment", 206, 8, _D),
    Field("interest_type_indicator", 214, 1),
    Field("reserved", 215, 17, _A, ""),
    Field("surname", 232, 25),
    Field("first_name", 257, 20),
    Field("middle_name", 277, 20),
    Field("generation_code", 297, 1),
    Field("social_security_number", 298, 9, _N),
    Field("date_of_birth", 307, 8, _D),
    Field("telephone_number", 315, 10, _N),
    Field("ecoa_code", 325, 1),
    Field("consumer_information_indicator", 326, 2),
    Field("country_code", 328, 2),
    Field("first_line_address", 330, 32),
    Field("second_line_address", 362, 32),
    Field("city", 394, 20),
    Field("state", 414, 2),
    Field("postal_code", 416, 9),
    Field("address_indicator", 425, 1),
    Field("residence_code", 426, 1),
)

_CONSUMER_FIELDS: Final = (
    Field("surname", 4, 25),
    Field("first_name", 29, 20),
    Field("middle_name", 49, 20),
    Field("generation_code", 69, 1),
    Field("social_security_number", 70, 9, _N),
    Field("date_of_birth", 79, 8, _D),
    Field("telephone_number", 87, 10, _N),
    Field("ecoa_code", 97, 1),
    Field("consumer_information_indicator", 98, 2),
)

#: J1: an associated consumer at the primary consumer's address (100).
J1_LAYOUT: Final = (
    Field("segment_identifier", 1, 2, _A, "J1"),
    Field("reserved_1", 3, 1, _A, ""),
    *_CONSUMER_FIELDS,
    Field("reserved_2", 100, 1, _A, ""),
)

#: J2: an associated consumer at an address of their own (200).
J2_LAYOUT: Final = (
    Field("segment_identifier", 1, 2, _A, "J2"),
    Field("reserved_1", 3, 1, _A, ""),
    *_CONSUMER_FIELDS,
    Field("country_code", 100, 2),
    Field("first_line_address", 102, 32),
    Field("second_line_address", 134, 32),
    Field("city", 166, 20),
    Field("state", 186, 2),
    Field("postal_code", 188, 9),
    Field("address_indicator", 197, 1),
    Field("residence_code", 198, 1),
    Field("reserved_2", 199, 2, _A, ""),
)

#: K1: the original creditor of a purchased or collection account (34).
K1_LAYOUT: Final = (
    Field("segment_identifier", 1, 2, _A, "K1"),
    Field("original_creditor_name", 3, 30),
    Field("creditor_classification", 33, 2, _N),
)

#: The account status codes the trailer counts, in its order, with their first position.
TRAILER_STATUS_COUNTS: Final = (
    ("DA", 66),
    ("05", 75),
    ("11", 84),
    ("13", 93),
    ("61", 102),
    ("62", 111),
    ("63", 120),
    ("64", 129),
    ("65", 138),
    ("71", 147),
    ("78", 156),
    ("80", 165),
    ("82", 174),
    ("83", 183),
    ("84", 192),
    ("88", 201),
    ("89", 210),
    ("93", 219),
    ("94", 228),
    ("95", 237),
    ("96", 246),
    ("97", 255),
)

#: Metro 2 character-format trailer record (426).
TRAILER_LAYOUT: Final = (
    Field("record_descriptor_word", 1, 4, _N, 426),
    Field("record_identifier", 5, 7, _A, "TRAILER"),
    Field("total_base_records", 12, 9, _N),
    Field("reserved_1", 21, 9, _A, ""),
    Field("total_status_df", 30, 9, _N),
    Field("total_j1_segments", 39, 9, _N),
    Field("total_j2_segments", 48, 9, _N),
    Field("block_count", 57, 9, _N),
    *(Field(f"total_status_{code.lower()}", start, 9, _N) for code, start in TRAILER_STATUS_COUNTS),
    Field("total_ecoa_z", 264, 9, _N),
    Field("total_n1_segments", 273, 9, _N),
    Field("total_k1_segments", 282, 9, _N),
    Field("total_k2_segments", 291, 9, _N),
    Field("total_k3_segments", 300, 9, _N),
    Field("total_k4_segments", 309, 9, _N),
    Field("total_l1_segments", 318, 9, _N),
    Field("total_ssn_all_segments", 327, 9, _N),
    Field("total_ssn_base_segments", 336, 9, _N),
    Field("total_ssn_j1_segments", 345, 9, _N),
    Field("total_ssn_j2_segments", 354, 9, _N),
    Field("total_dob_all_segments", 363, 9, _N),
    Field("total_dob_base_segments", 372, 9, _N),
    Field("total_dob_j1_segments", 381, 9, _N),
    Field("total_dob_j2_segments", 390, 9, _N),
    Field("total_telephone_all_segments", 399, 9, _N),
    Field("reserved_2", 408, 19, _A, ""),
)


def layout_length(layout: Sequence[Field]) -> int:
    """The number of characters a record of ``layout`` takes."""
    return layout[-1].end


def _format(spec: Field, value: Any) -> str:
    where = f"Metro 2 field {spec.name}"
    if spec.fill is Fill.ALPHANUMERIC:
        text = "" if value is None else str(value)
        if not text.isascii():
            raise BureauFormatError(f"{where} holds characters Metro 2 cannot carry")
        text = text.upper()
        if len(text) > spec.length:
            raise BureauFormatError(f"{where} is longer than its {spec.length} characters")
        return text.ljust(spec.length)
    if spec.fill is Fill.NUMERIC:
        number = 0 if value is None else value
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise BureauFormatError(f"{where} needs a whole number from 0, not {number!r}")
        text = str(number)
        if len(text) > spec.length:
            raise BureauFormatError(f"{where} does not fit in {spec.length} digits")
        return text.zfill(spec.length)
    if value is None:
        return "0" * spec.length
    if spec.fill is Fill.DATE:
        if not isinstance(value, dt.date):
            raise BureauFormatError(f"{where} needs a date, not {value!r}")
        return value.strftime("%m%d%Y")
    if not isinstance(value, dt.datetime):
        raise BureauFormatError(f"{where} needs a date and time, not {value!r}")
    return value.strftime("%m%d%Y%H%M%S")


def _parse(spec: Field, text: str) -> Any:
    where = f"Metro 2 field {spec.name} ({spec.start}-{spec.end})"
    if spec.fill is Fill.ALPHANUMERIC:
        return text.rstrip(" ")
    if not text.isdigit():
        raise BureauFormatError(f"{where} is not numeric: {text!r}")
    if spec.fill is Fill.NUMERIC:
        return int(text)
    if set(text) == {"0"}:
        return None
    try:
        day = dt.date(int(text[4:8]), int(text[0:2]), int(text[2:4]))
        if spec.fill is Fill.DATE:
            return day
        # Metro 2 time stamps carry no time zone: they are the furnisher's local time.
        return dt.datetime.combine(
            day, dt.time(int(text[8:10]), int(text[10:12]), int(text[12:14]))
        )
    except ValueError:
        raise BureauFormatError(f"{where} is not a date: {text!r}") from None


def encode_fields(layout: Sequence[Field], values: Mapping[str, Any]) -> str:
    """The fixed-width text of ``values`` laid out by ``layout``; constants fill themselves."""
    parts = []
    for spec in layout:
        value = spec.constant if spec.constant is not None else values.get(spec.name)
        parts.append(_format(spec, value))
    return "".join(parts)


def decode_fields(layout: Sequence[Field], text: str) -> dict[str, Any]:
    """The values of ``text`` read by field position; constants are checked and left out."""
    if len(text) != layout_length(layout):
        raise BureauFormatError(
            f"a record of this layout has {layout_length(layout)} characters, not {len(text)}"
        )
    values: dict[str, Any] = {}
    for spec in layout:
        raw = text[spec.start - 1 : spec.end]
        if spec.constant is not None:
            if raw != _format(spec, spec.constant):
                raise BureauFormatError(
                    f"Metro 2 field {spec.name} ({spec.start}-{spec.end}) holds {raw!r}, "
                    f"not {spec.constant!r}"
                )
            continue
        values[spec.name] = _parse(spec, raw)
    return values


# ---------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True, slots=True, kw_only=True)
class HeaderRecord:
    """The first record of a Metro 2 file: who reports, and for which activity date."""

    activity_date: dt.date
    date_created: dt.date
    reporter_name: str
    reporter_address: str
    reporter_telephone_number: int = 0
    cycle_identifier: str = ""
    innovis_program_identifier: str = ""
    equifax_program_identifier: str = ""
    experian_program_identifier: str = ""
    transunion_program_identifier: str = ""
    program_date: dt.date | None = None
    program_revision_date: dt.date | None = None
    software_vendor_name: str = "TENOR"
    software_version_number: str = ""
    prbc_program_identifier: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Consumer:
    """The identification of one consumer: names, SSN, date of birth and telephone.

    The SSN and the date of birth are left out of ``repr`` so that they never reach a log.
    """

    surname: str
    first_name: str
    middle_name: str = ""
    generation_code: str = ""
    social_security_number: int = field(default=0, repr=False)
    date_of_birth: dt.date | None = field(default=None, repr=False)
    telephone_number: int = field(default=0, repr=False)
    ecoa_code: str = "1"
    consumer_information_indicator: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Address:
    """A US postal address as Metro 2 carries it."""

    first_line_address: str
    city: str
    state: str
    postal_code: str
    second_line_address: str = ""
    country_code: str = "US"
    address_indicator: str = ""
    residence_code: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class BaseSegment:
    """One account's base segment: the account as of the date of account information."""

    identification_number: str
    consumer_account_number: str
    portfolio_type: str
    account_type: str
    date_opened: dt.date
    highest_credit: int
    terms_duration: str
    terms_frequency: str
    scheduled_monthly_payment: int
    actual_payment: int
    account_status: str
    payment_rating: str
    payment_history_profile: str
    current_balance: int
    amount_past_due: int
    original_charge_off_amount: int
    date_of_account_information: dt.date
    date_of_first_delinquency: dt.date | None
    date_closed: dt.date | None
    date_of_last_payment: dt.date | None
    consumer: Consumer
    address: Address
    special_comment: str = ""
    compliance_condition_code: str = ""
    credit_limit: int = 0
    interest_type_indicator: str = ""
    cycle_identifier: str = ""
    processing_indicator: int = 1
    time_stamp: dt.datetime | None = None
    correction_indicator: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class J1Segment:
    """An associated consumer (a co-borrower) who lives at the primary consumer's address."""

    consumer: Consumer


@dataclass(frozen=True, slots=True, kw_only=True)
class J2Segment:
    """An associated consumer with an address of their own."""

    consumer: Consumer
    address: Address


@dataclass(frozen=True, slots=True, kw_only=True)
class K1Segment:
    """The original creditor of a purchased or collection account."""

    original_creditor_name: str
    creditor_classification: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountRecord:
    """One logical record: the base segment and the segments appended to it."""

    base: BaseSegment
    j1: tuple[J1Segment, ...] = ()
    j2: tuple[J2Segment, ...] = ()
    k1: K1Segment | None = None

    @property
    def length(self) -> int:
        """The record descriptor word: the characters of the whole logical record."""
        return (
            layout_length(BASE_LAYOUT)
            + len(self.j1) * layout_length(J1_LAYOUT)
            + len(self.j2) * layout_length(J2_LAYOUT)
            + (layout_length(K1_LAYOUT) if self.k1 else 0)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class TrailerRecord:
    """The last record of a Metro 2 file: its totals."""

    total_base_records: int
    block_count: int
    status_counts: Mapping[str, int]
    total_j1_segments: int
    total_j2_segments: int
    total_k1_segments: int
    total_ecoa_z: int
    total_ssn_base_segments: int
    total_ssn_j1_segments: int
    total_ssn_j2_segments: int
    total_dob_base_segments: int
    total_dob_j1_segments: int
    total_dob_j2_segments: int
    total_telephone_all_segments: int


def _flat(record: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in dataclasses.fields(record):
        value = getattr(record, item.name)
        if isinstance(value, Consumer | Address):
            values.update(_flat(value))
        else:
            values[item.name] = value
    return values


def _pick(cls: type[Any], values: Mapping[str, Any]) -> Any:
    names = {item.name for item in dataclasses.fields(cls)}
    return cls(**{name: value for name, value in values.items() if name in names})


def encode_header(header: HeaderRecord) -> str:
    """The 426 characters of the header record."""
    return encode_fields(HEADER_LAYOUT, _flat(header))


def decode_header(text: str) -> HeaderRecord:
    """The header record in ``text``, read by field position."""
    return _pick(HeaderRecord, decode_fields(HEADER_LAYOUT, text))  # type: ignore[no-any-return]


def encode_account(record: AccountRecord) -> str:
    """The whole logical record: base segment, then J1, J2 and K1 segments."""
    values = _flat(record.base)
    values["record_descriptor_word"] = record.length
    parts = [encode_fields(BASE_LAYOUT, values)]
    parts += [encode_fields(J1_LAYOUT, _flat(j1.consumer)) for j1 in record.j1]
    parts += [
        encode_fields(J2_LAYOUT, {**_flat(j2.consumer), **_flat(j2.address)}) for j2 in record.j2
    ]
    if record.k1 is not None:
        parts.append(encode_fields(K1_LAYOUT, _flat(record.k1)))
    return "".join(parts)


def decode_account(text: str) -> AccountRecord:
    """The logical record in ``text``: the base segment and its appended segments."""
    base_length = layout_length(BASE_LAYOUT)
    values = decode_fields(BASE_LAYOUT, text[:base_length])
    if values.pop("record_descriptor_word") != len(text):
        raise BureauFormatError(
            f"the record descriptor word says {values.get('record_descriptor_word')}, "
            f"the record has {len(text)} characters"
        )
    base = _pick(
        BaseSegment,
        {**values, "consumer": _pick(Consumer, values), "address": _pick(Address, values)},
    )
    j1: list[J1Segment] = []
    j2: list[J2Segment] = []
    k1: K1Segment | None = None
    rest = text[base_length:]
    while rest:
        segment = rest[:2]
        layout = {"J1": J1_LAYOUT, "J2": J2_LAYOUT, "K1": K1_LAYOUT}.get(segment)
        if layout is None:
            raise BureauFormatError(f"unknown Metro 2 segment {segment!r}")
        part, rest = rest[: layout_length(layout)], rest[layout_length(layout) :]
        fields = decode_fields(layout, part)
        if segment == "J1":
            j1.append(J1Segment(consumer=_pick(Consumer, fields)))
        elif segment == "J2":
            j2.append(J2Segment(consumer=_pick(Consumer, fields), address=_pick(Address, fields)))
        else:
            k1 = _pick(K1Segment, fields)
    return AccountRecord(base=base, j1=tuple(j1), j2=tuple(j2), k1=k1)


def encode_trailer(trailer: TrailerRecord) -> str:
    """The 426 characters of the trailer record."""
    values = _flat(trailer)
    counts = values.pop("status_counts")
    for code, _ in TRAILER_STATUS_COUNTS:
        values[f"total_status_{code.lower()}"] = counts.get(code, 0)
    values["total_status_df"] = counts.get("DF", 0)
    values["total_ssn_all_segments"] = (
        trailer.total_ssn_base_segments + trailer.total_ssn_j1_segments
    ) + trailer.total_ssn_j2_segments
    values["total_dob_all_segments"] = (
        trailer.total_dob_base_segments + trailer.total_dob_j1_segments
    ) + trailer.total_dob_j2_segments
    return encode_fields(TRAILER_LAYOUT, values)


def decode_trailer(text: str) -> TrailerRecord:
    """The trailer record in ``text``, read by field position."""
    values = decode_fields(TRAILER_LAYOUT, text)
    counts = {code: values[f"total_status_{code.lower()}"] for code, _ in TRAILER_STATUS_COUNTS}
    counts["DF"] = values["total_status_df"]
    return _pick(  # type: ignore[no-any-return]
        TrailerRecord, {**values, "status_counts": {k: v for k, v in counts.items() if v}}
    )


def trailer_for(records: Sequence[AccountRecord]) -> TrailerRecord:
    """The trailer totals of a file holding ``records`` between its header and trailer."""
    counts: dict[str, int] = {}
    for record in records:
        status = record.base.account_status
        counts[status] = counts.get(status, 0) + 1
    consumers = [
        (record.base.consumer, "base") for record in records
    ]  # the base consumer of each record
    consumers += [(j1.consumer, "j1") for record in records for j1 in record.j1]
    consumers += [(j2.consumer, "j2") for record in records for j2 in record.j2]

    def count(where: str, has: str) -> int:
        return sum(1 for consumer, kind in consumers if kind == where and getattr(consumer, has))

    return TrailerRecord(
        total_base_records=len(records),
        block_count=len(records) + 2,
        status_counts=counts,
        total_j1_segments=sum(len(record.j1) for record in records),
        total_j2_segments=sum(len(record.j2) for record in records),
        total_k1_segments=sum(1 for record in records if record.k1 is not None),
        total_ecoa_z=sum(1 for consumer, _ in consumers if consumer.ecoa_code == "Z"),
        total_ssn_base_segments=count("base", "social_security_number"),
        total_ssn_j1_segments=count("j1", "social_security_number"),
        total_ssn_j2_segments=count("j2", "social_security_number"),
        total_dob_base_segments=count("base", "date_of_birth"),
        total_dob_j1_segments=count("j1", "date_of_birth"),
        total_dob_j2_segments=count("j2", "date_of_birth"),
        total_telephone_all_segments=sum(1 for c, _ in consumers if c.telephone_number),
    )


@dataclass(frozen=True, slots=True)
class Metro2File:
    """A whole Metro 2 file."""

    header: HeaderRecord
    records: tuple[AccountRecord, ...]
    trailer: TrailerRecord


def encode_file(header: HeaderRecord, records: Sequence[AccountRecord]) -> str:
    """The file's text: header, records and trailer, each on a line of its own."""
    lines = [encode_header(header), *(encode_account(r) for r in records)]
    lines.append(encode_trailer(trailer_for(records)))
    return "\n".join(lines) + "\n"


def decode_file(text: str) -> Metro2File:
    """A Metro 2 file read back line by line and field by field."""
    lines = text.splitlines()
    if len(lines) < 2:
        raise BureauFormatError("a Metro 2 file needs at least a header and a trailer")
    return Metro2File(
        header=decode_header(lines[0]),
        records=tuple(decode_account(line) for line in lines[1:-1]),
        trailer=decode_trailer(lines[-1]),
    )


# ---------------------------------------------------------------------------------------------
# Month-end facts and the Metro 2 account history


@dataclass(frozen=True, slots=True, kw_only=True)
class MonthFacts:
    """What the journal says about one loan at one month end; the input of every derivation.

    ``balance`` is what the borrower owes at the month end: outstanding principal plus the
    interest, fees and penalties already due; after a write-off, what is written off and not
    yet recovered. ``past_due`` is what fell due on or before the month end and is unpaid.
    """

    month_end: dt.date
    opened: bool
    days_past_due: int
    oldest_unpaid_due_date: dt.date | None
    balance: Money
    past_due: Money
    scheduled_payment: Money
    paid_in_month: Money
    last_payment_on: dt.date | None
    closed_on: dt.date | None
    written_off_on: dt.date | None
    written_off: Money
    loan_class: LoanClass
    due_in_month: bool
    collections: bool = False
    prepaid_in_month: Money | None = None
    guarantor_paid_in_month: bool = False
    asset_paid_in_month: bool = False


#: Statuses that need a payment rating, and no others may have one.
RATED_STATUSES: Final = frozenset({"05", "13", "65", "88", "89", "94", "95"})

#: Delinquent and derogatory statuses: each needs a date of first delinquency.
DEROGATORY_STATUSES: Final = frozenset(
    {"61", "62", "63", "64", "65", "71", "78", "80", "82", "83", "84", "93", "97"}
)

#: Every account status Tenor may report, deletions included.
ACCOUNT_STATUSES: Final = frozenset({"11", "13", "DA", "DF"}) | DEROGATORY_STATUSES

#: The payment-history profile's characters.
PROFILE_CHARACTERS: Final = frozenset("0123456BDEGHJKL")

#: Payment ratings: the account's standing just before a rated status.
PAYMENT_RATINGS: Final = frozenset("0123456GL")

#: Compliance condition codes (XA..XR) bureaus accept.
COMPLIANCE_CONDITION_CODES: Final = frozenset(
    {"", "XA", "XB", "XC", "XD", "XE", "XF", "XG", "XH", "XJ", "XR"}
)

_DPD_STATUSES: Final = ((180, "84"), (150, "83"), (120, "82"), (90, "80"), (60, "78"), (30, "71"))

#: The profile character of each status; "E" for a zero-balance current month.
_PROFILE_OF_STATUS: Final = {
    "11": "0",
    "71": "1",
    "78": "2",
    "80": "3",
    "82": "4",
    "83": "5",
    "84": "6",
    "93": "G",
    "62": "G",
    "97": "L",
    "64": "L",
    "13": "E",
}


def status_for_days_past_due(days: int) -> str:
    """11 under 30 days past the due date; 71, 78, 80, 82, 83, 84 for 30-59 ... 180+."""
    for threshold, status in _DPD_STATUSES:
        if days >= threshold:
            return status
    return "11"


@dataclass(frozen=True, slots=True)
class Metro2Month:
    """What Metro 2 reports for one loan and one month."""

    facts: MonthFacts
    account_status: str
    payment_rating: str
    payment_history_profile: str
    date_of_first_delinquency: dt.date | None
    #: This month's own character, which next month's profile starts with.
    profile_character: str


def _status(facts: MonthFacts, was_collections: bool) -> str:
    zero = not facts.balance
    if facts.written_off_on is not None:
        return "64" if zero else "97"
    if zero and facts.closed_on is not None:
        return "62" if was_collections else "13"
    if facts.collections and not zero:
        return "93"
    return status_for_days_past_due(facts.days_past_due)


def _dofd(
    facts: MonthFacts,
    status: str,
    rating: str,
    previous: Metro2Month | None,
) -> dt.date | None:
    carried = (
        previous.date_of_first_delinquency
        if previous is not None and previous.account_status in DEROGATORY_STATUSES
        else None
    )
    if status in DEROGATORY_STATUSES:
        if carried is not None:
            return carried
        if facts.oldest_unpaid_due_date is not None and facts.days_past_due >= 30:
            return facts.oldest_unpaid_due_date + dt.timedelta(days=30)
        return facts.written_off_on or facts.month_end
    if status in RATED_STATUSES and rating not in ("", "0"):
        return carried
    return None


def metro2_months(months: Sequence[MonthFacts]) -> list[Metro2Month]:
    """Status, payment rating, 24-month profile and DOFD of each month, oldest first.

    ``months`` are consecutive month ends of one loan, from its first month (or earlier) on.
    The profile of a month lists the 24 months before it, the latest first: each month's
    status character (0-6 by days past due, G in collections, L charged off, E zero balance and
    current), B before the account was opened and beyond its first month. The date of first
    delinquency is the day the account first reached 30 days past the due date in the
    delinquency that led to a delinquent or derogatory status; it is kept over consecutive
    delinquent and derogatory months (and on the payoff that ends them) and cleared when the
    account cures.
    """
    result: list[Metro2Month] = []
    characters: list[str] = []
    was_collections = False
    for facts in months:
        previous = result[-1] if result else None
        profile = "".join(reversed(characters[-24:])).ljust(24, "B")
        if not facts.opened:
            result.append(Metro2Month(facts, "", "", profile, None, "B"))
            characters.append("B")
            continue
        status = _status(facts, was_collections)
        was_collections = was_collections or facts.collections
        rating = ""
        if status in RATED_STATUSES:
            rating = previous.profile_character if previous is not None else "0"
            rating = rating if rating in PAYMENT_RATINGS else "0"
        dofd = _dofd(facts, status, rating, previous)
        character = _PROFILE_OF_STATUS.get(status, "0")
        if status == "11" and not facts.balance:
            character = "E"
        result.append(Metro2Month(facts, status, rating, profile, dofd, character))
        characters.append(character)
    return result


# ---------------------------------------------------------------------------------------------
# Validation


def validate_base(base: BaseSegment, reporting_month_end: dt.date) -> list[str]:
    """The rules of the bureaus ``base`` breaks, as sentences; empty when it is fit to send."""
    problems: list[str] = []
    status = base.account_status
    if status not in ACCOUNT_STATUSES:
        problems.append(f"account status {status!r} is not one Tenor reports")
    if status in RATED_STATUSES:
        if base.payment_rating not in PAYMENT_RATINGS:
            problems.append(f"account status {status} needs a payment rating (0-6, G, L)")
    elif base.payment_rating:
        problems.append(f"account status {status} takes no payment rating")
    profile = base.payment_history_profile
    if len(profile) != 24:
        problems.append("the payment history profile must have exactly 24 characters")
    if set(profile) - PROFILE_CHARACTERS:
        problems.append(f"the payment history profile {profile!r} has characters outside 0-6, B-L")
    if "B" in profile and set(profile[profile.index("B") :]) != {"B"}:
        problems.append(f"the payment history profile {profile!r} has B before its end")
    if status == "11" and base.amount_past_due:
        problems.append("the amount past due must be 0 when the account status is 11")
    if status in ("13", "61", "62", "63", "64", "65") and (
        base.current_balance or base.amount_past_due
    ):
        problems.append(f"account status {status} needs a zero balance and nothing past due")
    if status in ("64", "97") and not base.original_charge_off_amount:
        problems.append(f"account status {status} needs the original charge-off amount")
    needs_dofd = status in DEROGATORY_STATUSES or (
        status in RATED_STATUSES and base.payment_rating not in ("", "0")
    )
    if needs_dofd and base.date_of_first_delinquency is None:
        problems.append(f"account status {status} needs a date of first delinquency")
    if not needs_dofd and status not in ("DA", "DF") and base.date_of_first_delinquency:
        problems.append(f"account status {status} must not carry a date of first delinquency")
    information = base.date_of_account_information
    if (information.year, information.month) != (
        reporting_month_end.year,
        reporting_month_end.month,
    ) or information > reporting_month_end:
        problems.append(
            f"the date of account information {information} is not within the reporting month "
            f"{reporting_month_end:%Y-%m}"
        )
    if base.compliance_condition_code not in COMPLIANCE_CONDITION_CODES:
        problems.append(f"compliance condition code {base.compliance_condition_code!r} is unknown")
    if base.special_comment and not (
        len(base.special_comment) <= 2 and base.special_comment.isalnum()
    ):
        problems.append(f"special comment {base.special_comment!r} is not a Metro 2 code")
    for name, value in (
        ("identification number", base.identification_number),
        ("consumer account number", base.consumer_account_number),
        ("surname", base.consumer.surname),
        ("first name", base.consumer.first_name),
        ("first line of address", base.address.first_line_address),
        ("city", base.address.city),
        ("state", base.address.state),
        ("ZIP code", base.address.postal_code),
    ):
        if not value.strip():
            problems.append(f"the {name} is missing")
    if not base.consumer.social_security_number and base.consumer.date_of_birth is None:
        problems.append("the consumer needs a social security number or a date of birth")
    for name, amount in (
        ("current balance", base.current_balance),
        ("amount past due", base.amount_past_due),
        ("actual payment", base.actual_payment),
    ):
        if amount < 0:
            problems.append(f"the {name} must not be negative")
    return problems


# ---------------------------------------------------------------------------------------------
# Compliance condition codes from disputes


@dataclass(frozen=True, slots=True)
class Dispute:
    """A consumer's dispute of an account: opened, and resolved with an outcome or not yet.

    ``consumer_disagrees``: the investigation is complete and the consumer disagrees (XC);
    otherwise a resolved dispute is reported as XH.
    """

    opened_on: dt.date
    resolved_on: dt.date | None = None
    consumer_disagrees: bool = False


def compliance_condition(disputes: Iterable[Dispute], month_end_day: dt.date) -> str:
    """XB while a dispute is open at the month end; XH or XC in the month it was resolved."""
    first = month_end_day.replace(day=1)
    code = ""
    for dispute in disputes:
        if dispute.opened_on > month_end_day:
            continue
        if dispute.resolved_on is None or dispute.resolved_on > month_end_day:
            return "XB"
        if dispute.resolved_on >= first:
            code = "XC" if dispute.consumer_disagrees else "XH"
    return code


# ---------------------------------------------------------------------------------------------
# PBOC-style records


class PbocAccountStatus(StrEnum):
    """The account status of a PBOC-style record, in the regulator's words."""

    NORMAL = "正常"
    OVERDUE = "逾期"
    SETTLED = "结清"
    BAD_DEBT = "呆账"
    WRITTEN_OFF = "核销"

    @property
    def label_en(self) -> str:
        """The English name."""
        return {
            "正常": "Normal",
            "逾期": "Overdue",
            "结清": "Settled",
            "呆账": "Bad debt",
            "核销": "Written off",
        }[self.value]


class SpecialTransaction(StrEnum):
    """Special transactions a PBOC-style record lists."""

    EXTENSION = "展期"
    GUARANTOR_REPAID = "担保人代还"
    REPAID_WITH_ASSETS = "以资抵债"
    PREPAYMENT = "提前还款"

    @property
    def label_en(self) -> str:
        """The English name."""
        return {
            "展期": "Extension",
            "担保人代还": "Repaid by a guarantor",
            "以资抵债": "Repaid with assets",
            "提前还款": "Prepayment",
        }[self.value]


@dataclass(frozen=True, slots=True)
class PbocMonth:
    """One loan's PBOC-style record for one month."""

    facts: MonthFacts
    status_character: str
    account_status: PbocAccountStatus | None
    history_24: str
    history_60: str
    special_transactions: tuple[SpecialTransaction, ...]


_PBOC_OVERDUE: Final = ((181, "7"), (151, "6"), (121, "5"), (91, "4"), (61, "3"), (31, "2"))


def pboc_character(facts: MonthFacts) -> str:
    """The month's repayment status character.

    / not open; G written off with something still owed (ended without settlement); C
    settled; D or Z when a guarantor or the borrower's assets repaid in the month; 1-7 for
    1-30 ... over 180 days overdue; * nothing due in the month; N paid as agreed.
    """
    if not facts.opened:
        return "/"
    if facts.written_off_on is not None:
        return "C" if not facts.balance else "G"
    if facts.closed_on is not None and not facts.balance:
        return "C"
    if facts.guarantor_paid_in_month:
        return "D"
    if facts.asset_paid_in_month:
        return "Z"
    if facts.days_past_due > 0:
        for threshold, character in _PBOC_OVERDUE:
            if facts.days_past_due >= threshold:
                return character
        return "1"
    return "N" if facts.due_in_month else "*"


def pboc_status(facts: MonthFacts) -> PbocAccountStatus | None:
    """结清 settled, 核销 written off with something owed, 呆账 classified 损失 (loss),
    逾期 past due, 正常 otherwise; ``None`` before the loan opens."""
    if not facts.opened:
        return None
    if not facts.balance and (facts.closed_on is not None or facts.written_off_on):
        return PbocAccountStatus.SETTLED
    if facts.written_off_on is not None:
        return PbocAccountStatus.WRITTEN_OFF
    if facts.loan_class is LoanClass.LOSS:
        return PbocAccountStatus.BAD_DEBT
    if facts.days_past_due > 0:
        return PbocAccountStatus.OVERDUE
    return PbocAccountStatus.NORMAL


def pboc_months(months: Sequence[MonthFacts], extended: Iterable[dt.date] = ()) -> list[PbocMonth]:
    """Each month's PBOC-style record, oldest first; the strings list the months up to and
    including the record's own, oldest first, padded with / before the loan opened.

    ``extended``: dates the loan's term was extended (展期), from restructuring.
    """
    extensions = sorted(extended)
    result: list[PbocMonth] = []
    characters: list[str] = []
    for facts in months:
        characters.append(pboc_character(facts))
        first = facts.month_end.replace(day=1)
        special: list[SpecialTransaction] = []
        if any(first <= day <= facts.month_end for day in extensions):
            special.append(SpecialTransaction.EXTENSION)
        if facts.guarantor_paid_in_month:
            special.append(SpecialTransaction.GUARANTOR_REPAID)
        if facts.asset_paid_in_month:
            special.append(SpecialTransaction.REPAID_WITH_ASSETS)
        if facts.prepaid_in_month is not None and facts.prepaid_in_month.is_positive:
            special.append(SpecialTransaction.PREPAYMENT)
        result.append(
            PbocMonth(
                facts=facts,
                status_character=characters[-1],
                account_status=pboc_status(facts),
                history_24="".join(characters[-24:]).rjust(24, "/"),
                history_60="".join(characters[-60:]).rjust(60, "/"),
                special_transactions=tuple(special),
            )
        )
    return result


def terms_frequency(unit: str, count: int) -> str | None:
    """The Metro 2 terms frequency of installments every ``count`` ``unit`` (day or month);
    ``None`` when Metro 2 has no code for it."""
    codes = {
        ("month", 1): "M",
        ("month", 2): "L",
        ("month", 3): "Q",
        ("month", 4): "T",
        ("month", 6): "S",
        ("month", 12): "Y",
        ("day", 7): "W",
        ("day", 14): "B",
    }
    return codes.get((unit, count))
