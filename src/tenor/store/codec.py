"""Core records to JSON documents and back: loan terms and journal events.

Amounts travel as ``{"amount": "120.50", "currency": "CNY"}`` and rates as decimal strings,
so a document read back gives exactly the record that was written.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from decimal import Decimal
from typing import Any

from tenor.core.account import (
    BucketChanged,
    ChargeApplied,
    ChargeKind,
    ClassificationChanged,
    Disbursed,
    LoanEvent,
    Recovered,
    RepaymentReceived,
    Restructured,
    Reversed,
    Waived,
    WrittenOff,
)
from tenor.core.allocation import Component
from tenor.core.calendar import BusinessDayConvention, DayCount, Frequency, HolidayCalendar
from tenor.core.money import Money, Rounding
from tenor.core.schedule import (
    GraceTreatment,
    Installment,
    InterestMethod,
    LoanTerms,
    Method,
    Milestone,
)

EVENT_KINDS: dict[type[LoanEvent], str] = {
    Disbursed: "disbursed",
    RepaymentReceived: "repayment-received",
    ChargeApplied: "charge-applied",
    Waived: "waived",
    Reversed: "reversed",
    WrittenOff: "written-off",
    Recovered: "recovered",
    BucketChanged: "bucket-changed",
    ClassificationChanged: "classification-changed",
    Restructured: "restructured",
}


@functools.lru_cache(maxsize=1_024)
def string_tuple(document: str | None) -> tuple[str, ...]:
    """A JSON array of strings read as text (a borrower's opt-outs, a case's flags) as a
    tuple: such columns hold a handful of distinct documents, each parsed once."""
    return tuple(json.loads(document) or ()) if document else ()


def money_to_json(amount: Money) -> dict[str, str]:
    """``{"amount": "120.50", "currency": "CNY"}``."""
    return {"amount": amount.format(), "currency": amount.currency}


def money_from_json(document: dict[str, str]) -> Money:
    """The inverse of :func:`money_to_json`."""
    return Money.of(document["amount"], document["currency"])


def _optional_money(amount: Money | None) -> dict[str, str] | None:
    return None if amount is None else money_to_json(amount)


def _optional_date(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def terms_to_json(terms: LoanTerms) -> dict[str, Any]:
    """A loan's terms as a JSON document."""
    return {
        "principal": money_to_json(terms.principal),
        "annual_rate": str(terms.annual_rate),
        "term": terms.term,
        "frequency": terms.frequency.name,
        "start": terms.start.isoformat(),
        "method": terms.method.value,
        "interest_method": terms.interest_method.value,
        "day_count": terms.day_count.value,
        "daily_interest": terms.daily_interest,
        "first_due": _optional_date(terms.first_due),
        "grace_principal": terms.grace_principal,
        "grace_interest": terms.grace_interest,
        "interest_grace_treatment": terms.interest_grace_treatment.value,
        "moratorium": terms.moratorium,
        "moratorium_treatment": terms.moratorium_treatment.value,
        "installment_multiple": _optional_money(terms.installment_multiple),
        "rounding": terms.rounding.value,
        "upfront_fee": _optional_money(terms.upfront_fee),
        "installment_fee": _optional_money(terms.installment_fee),
        "stepped_principal": [money_to_json(step) for step in terms.stepped_principal],
        "milestones": [
            {
                "name": milestone.name,
                "expected_date": milestone.expected_date.isoformat(),
                "share": str(milestone.share),
            }
            for milestone in terms.milestones
        ],
        "holiday_calendar": terms.holiday_calendar.country if terms.holiday_calendar else None,
        "business_day": terms.business_day.value,
        "month_end": terms.month_end,
    }


def terms_from_json(document: dict[str, Any]) -> LoanTerms:
    """The inverse of :func:`terms_to_json`."""

    def money(key: str) -> Money | None:
        value = document.get(key)
        return None if value is None else money_from_json(value)

    first_due = document.get("first_due")
    calendar = document.get("holiday_calendar")
    return LoanTerms(
        principal=money_from_json(document["principal"]),
        annual_rate=Decimal(document["annual_rate"]),
        term=int(document["term"]),
        frequency=Frequency.parse(document["frequency"]),
        start=dt.date.fromisoformat(document["start"]),
        method=Method(document["method"]),
        interest_method=InterestMethod(document["interest_method"]),
        day_count=DayCount(document["day_count"]),
        daily_interest=bool(document["daily_interest"]),
        first_due=dt.date.fromisoformat(first_due) if first_due else None,
        grace_principal=int(document["grace_principal"]),
        grace_interest=int(document["grace_interest"]),
        interest_grace_treatment=GraceTreatment(document["interest_grace_treatment"]),
        moratorium=int(document["moratorium"]),
        moratorium_treatment=GraceTreatment(document["moratorium_treatment"]),
        installment_multiple=money("installment_multiple"),
        rounding=Rounding(document["rounding"]),
        upfront_fee=money("upfront_fee"),
        installment_fee=money("installment_fee"),
        stepped_principal=tuple(money_from_json(step) for step in document["stepped_principal"]),
        milestones=tuple(
            Milestone(
                name=milestone["name"],
                expected_date=dt.date.fromisoformat(milestone["expected_date"]),
                share=Decimal(milestone["share"]),
            )
            for milestone in document["milestones"]
        ),
        holiday_calendar=HolidayCalendar(calendar) if calendar else None,
        business_day=BusinessDayConvention(document["business_day"]),
        month_end=bool(document["month_end"]),
    )


def event_payload(event: LoanEvent) -> dict[str, Any]:
    """What an event says beyond its id, sequence and value date."""
    match event:
        case RepaymentReceived():
            return {
                "amount": money_to_json(event.amount),
                "channel": event.channel,
                "external_reference": event.external_reference,
            }
        case Disbursed() | Recovered():
            return {"amount": money_to_json(event.amount)}
        case ChargeApplied():
            return {
                "kind": event.kind.value,
                "amount": money_to_json(event.amount),
                "installment": event.installment,
            }
        case Waived():
            return {
                "component": event.component.name.lower(),
                "amount": money_to_json(event.amount),
                "installment": event.installment,
            }
        case Reversed():
            return {"target": event.target}
        case WrittenOff():
            return {}
        case BucketChanged():
            return {
                "from_bucket": event.from_bucket,
                "to_bucket": event.to_bucket,
                "days_past_due": event.days_past_due,
            }
        case ClassificationChanged():
            return {
                "from_class": event.from_class,
                "to_class": event.to_class,
                "from_stage": event.from_stage,
                "to_stage": event.to_stage,
                "days_past_due": event.days_past_due,
            }
        case Restructured():
            return {
                "option": event.option,
                "installments": [_installment_to_json(item) for item in event.installments],
                "capitalised": money_to_json(event.capitalised),
                "spread": event.spread,
                "carry_from": event.carry_from,
                "forgive": _optional_money(event.forgive),
                "watch_days": event.watch_days,
            }


def _installment_to_json(item: Installment) -> dict[str, Any]:
    return {
        "number": item.number,
        "start_date": item.start_date.isoformat(),
        "due_date": item.due_date.isoformat(),
        "principal": money_to_json(item.principal),
        "interest": money_to_json(item.interest),
        "fee": money_to_json(item.fee),
        "balance": money_to_json(item.balance),
    }


def _installment_from_json(document: dict[str, Any]) -> Installment:
    return Installment(
        number=int(document["number"]),
        start_date=dt.date.fromisoformat(document["start_date"]),
        due_date=dt.date.fromisoformat(document["due_date"]),
        principal=money_from_json(document["principal"]),
        interest=money_from_json(document["interest"]),
        fee=money_from_json(document["fee"]),
        balance=money_from_json(document["balance"]),
    )


def event_from_record(
    kind: str, event_id: str, sequence: int, value_date: dt.date, payload: dict[str, Any]
) -> LoanEvent:
    """A core event from a journal row's columns."""
    common: dict[str, Any] = {"event_id": event_id, "sequence": sequence, "value_date": value_date}
    if kind == "charge-applied":
        return ChargeApplied(
            **common,
            kind=ChargeKind(payload["kind"]),
            amount=money_from_json(payload["amount"]),
            installment=payload.get("installment"),
        )
    if kind == "waived":
        return Waived(
            **common,
            component=Component[payload["component"].upper()],
            amount=money_from_json(payload["amount"]),
            installment=payload.get("installment"),
        )
    if kind == "reversed":
        return Reversed(**common, target=payload["target"])
    if kind == "written-off":
        return WrittenOff(**common)
    if kind == "disbursed":
        return Disbursed(**common, amount=money_from_json(payload["amount"]))
    if kind == "repayment-received":
        return RepaymentReceived(
            **common,
            amount=money_from_json(payload["amount"]),
            channel=payload.get("channel"),
            external_reference=payload.get("external_reference"),
        )
    if kind == "recovered":
        return Recovered(**common, amount=money_from_json(payload["amount"]))
    if kind == "bucket-changed":
        return BucketChanged(
            **common,
            from_bucket=payload.get("from_bucket"),
            to_bucket=payload["to_bucket"],
            days_past_due=int(payload["days_past_due"]),
        )
    if kind == "classification-changed":
        return ClassificationChanged(
            **common,
            from_class=payload.get("from_class"),
            to_class=int(payload["to_class"]),
            from_stage=payload.get("from_stage"),
            to_stage=int(payload["to_stage"]),
            days_past_due=int(payload["days_past_due"]),
        )
    if kind == "restructured":
        forgive = payload.get("forgive")
        return Restructured(
            **common,
            option=payload["option"],
            installments=tuple(_installment_from_json(item) for item in payload["installments"]),
            capitalised=money_from_json(payload["capitalised"]),
            spread=int(payload["spread"]),
            carry_from=int(payload["carry_from"]),
            forgive=None if forgive is None else money_from_json(forgive),
            watch_days=int(payload["watch_days"]),
        )
    raise ValueError(f"unknown journal event kind {kind!r}")
