"""Collections performance on the dashboard: rates by stage reached, promises kept, champion
against challenger with their intervals, and agencies, each a chart with its table and CSV.

Every figure is :func:`tenor.collect.reports.collections_report`'s or
:func:`~tenor.collect.reports.strategies_report`'s, the reports ``tenor report collections``
and ``tenor report strategies`` print; the console only turns their rates (fractions to four
places) into percent to two places, with Decimal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenor.collect.reports import STAGES, collections_report, load_cases, strategies_report
from tenor.collect.tables import CollectionCase
from tenor.web.i18n import Formats
from tenor.web.views import csv_text

#: The charts of the section, by the name their CSV file is asked for with.
CHARTS: Final = ("stages", "promises", "arms", "agencies")
#: The stage rates a chart draws, and the report's key of each.
STAGE_RATES: Final = (("roll", "roll_rate"), ("cure", "cure_rate"), ("recovery", "recovery_rate"))
#: The measures of an arm, each an interval (rates in percent, amounts to the cent).
ARM_MEASURES: Final = ("cure_rate", "roll_rate", "recovered_per_case", "contact_cost_per_case")
_PARTS: Final = ("estimate", "low", "high")
_DRAWN_PROMISES: Final = ("kept", "broken", "pending")


def percent(rate: float | None) -> str | None:
    """A report's rate (a fraction) in percent to two places; None stays None (no cases)."""
    if rate is None:
        return None
    return str((Decimal(str(rate)) * 100).quantize(Decimal("0.01")))


def _figure(value: float | None, rate: bool) -> str | None:
    if value is None:
        return None
    return percent(value) if rate else str(Decimal(str(value)).quantize(Decimal("0.01")))


@dataclass(frozen=True, slots=True)
class StageRates:
    """Per stage reached (M1 .. M6+): cases that reached it, the share that rolled on, the
    share cured having gone no further, and what those recovered against their balance."""

    currency: str
    rows: tuple[dict[str, Any], ...]
    name: str = "stages"

    def csv(self) -> str:
        """One CSV row per stage."""
        columns = (
            "currency",
            "stage",
            "entered",
            "rolled_forward",
            "roll_rate_percent",
            "cured",
            "cure_rate_percent",
            "recovered",
            "recovery_rate_percent",
        )
        return csv_text(columns, ({"currency": self.currency, **row} for row in self.rows))

    def spec(self, fmt: Formats, series: str) -> dict[str, Any]:
        """Grouped bars: for each stage, its roll, cure and recovery rates."""
        return {
            "kind": self.name,
            "type": "groups",
            "categories": [row["stage"] for row in self.rows],
            "groups": [
                {
                    "name": fmt.label(f"rate:{key}"),
                    "tone": key,
                    "values": [row[f"{field}_percent"] for row in self.rows],
                }
                for key, field in STAGE_RATES
            ],
            "series": series,
            "percent": True,
            "currency": self.currency,
            "locale": fmt.locale,
        }


@dataclass(frozen=True, slots=True)
class Promises:
    """Promises to pay: made, pending, kept and broken, the keep rate of those decided, and
    what was promised and paid against them."""

    currency: str
    made: int
    pending: int
    kept: int
    broken: int
    keep_rate_percent: str | None
    promised: str
    paid_against: str
    name: str = "promises"

    def csv(self) -> str:
        """The promises as one CSV row."""
        columns = (
            "currency",
            "made",
            "pending",
            "kept",
            "broken",
            "keep_rate_percent",
            "promised_decided",
            "paid_against_decided",
        )
        row = {
            "currency": self.currency,
            "made": self.made,
            "pending": self.pending,
            "kept": self.kept,
            "broken": self.broken,
            "keep_rate_percent": self.keep_rate_percent,
            "promised_decided": self.promised,
            "paid_against_decided": self.paid_against,
        }
        return csv_text(columns, [row])

    def spec(self, fmt: Formats, series: str) -> dict[str, Any]:
        """Bars: how many promises were kept, broken, and are still pending."""
        return {
            "kind": self.name,
            "type": "bar",
            "categories": [fmt.label(f"promise:{status}") for status in _DRAWN_PROMISES],
            "values": [str(self.kept), str(self.broken), str(self.pending)],
            "series": series,
            "percent": False,
            "count": True,
            "currency": self.currency,
            "locale": fmt.locale,
        }


@dataclass(frozen=True, slots=True)
class Arms:
    """Champion against challenger in each segment: every measure with its 95% interval, and
    the challenger's cure rate minus the champion's with its interval."""

    currency: str
    rows: tuple[dict[str, Any], ...]
    name: str = "arms"

    @property
    def compared(self) -> list[str]:
        """The segments that have both arms."""
        return [row["segment"] for row in self.rows if row["arm"] == "challenger"]

    def csv(self) -> str:
        """One CSV row per segment and arm: each measure's estimate, low and high."""
        columns = [
            "currency",
            "segment",
            "arm",
            "cases",
            *(f"{measure}_{part}" for measure in ARM_MEASURES for part in _PARTS),
            "cure_rate_difference_estimate",
            "cure_rate_difference_low",
            "cure_rate_difference_high",
        ]
        return csv_text(columns, ({"currency": self.currency, **row["flat"]} for row in self.rows))

    def spec(self, fmt: Formats, series: str) -> dict[str, Any]:
        """Each arm's cure rate as a range from the interval's low to its high, with a mark at
        the estimate (a forest plot)."""
        drawn = [row for row in self.rows if row["cure_rate"] is not None]
        return {
            "kind": self.name,
            "type": "intervals",
            # The segment over the arm: two short lines fit beside the plot.
            "categories": [f"{row['segment']}\n{fmt.label('arm:' + row['arm'])}" for row in drawn],
            "arms": [row["arm"] for row in drawn],
            "low": [row["cure_rate"]["low"] for row in drawn],
            "high": [row["cure_rate"]["high"] for row in drawn],
            "estimate": [row["cure_rate"]["estimate"] for row in drawn],
            "labels": {
                "estimate": fmt.label("Estimate"),
                "interval": fmt.label("95% interval"),
            },
            "series": series,
            "percent": True,
            "currency": self.currency,
            "locale": fmt.locale,
        }


@dataclass(frozen=True, slots=True)
class Agencies:
    """Each agency: placements (all and open), the balance placed, what it collected, its
    commission and the net, and the share of the placed balance it recovered."""

    currency: str
    rows: tuple[dict[str, Any], ...]
    name: str = "agencies"

    def csv(self) -> str:
        """One CSV row per agency."""
        columns = (
            "currency",
            "agency_id",
            "agency",
            "placements",
            "open",
            "placed_balance",
            "collected",
            "commission",
            "net",
            "recovery_rate_percent",
        )
        return csv_text(columns, ({"currency": self.currency, **row} for row in self.rows))

    def spec(self, fmt: Formats, series: str) -> dict[str, Any]:
        """Bars: each agency's recovery rate on the balance placed with it."""
        return {
            "kind": self.name,
            "type": "bar",
            "categories": [row["agency"] for row in self.rows],
            "values": [row["recovery_rate_percent"] for row in self.rows],
            "series": series,
            "percent": True,
            "currency": self.currency,
            "locale": fmt.locale,
        }


#: Any chart of the section.
CollectionsChart = StageRates | Promises | Arms | Agencies


@dataclass(frozen=True, slots=True)
class Performance:
    """The collections section of the dashboard."""

    currency: str
    business_date: dt.date
    cases: dict[str, Any]
    total: dict[str, Any]
    stages: StageRates
    promises: Promises
    arms: Arms
    agencies: Agencies

    def chart(self, name: str) -> CollectionsChart:
        """One of the section's charts by its name (a KeyError for another name)."""
        charts: dict[str, CollectionsChart] = {
            "stages": self.stages,
            "promises": self.promises,
            "arms": self.arms,
            "agencies": self.agencies,
        }
        return charts[name]


def _interval(value: dict[str, float] | None, rate: bool) -> dict[str, str | None] | None:
    if value is None:
        return None
    return {part: _figure(value[part], rate) for part in _PARTS}


def _arm_rows(report: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    rows = []
    for segment in report["segments"]:
        difference = _interval(segment.get("cure_rate_difference"), rate=True)
        for arm, measures in segment["arms"].items():
            row: dict[str, Any] = {
                "segment": segment["segment"],
                "arm": arm,
                "cases": measures["cases"],
            }
            flat: dict[str, Any] = {
                "segment": segment["segment"],
                "arm": arm,
                "cases": measures["cases"],
            }
            for measure in ARM_MEASURES:
                interval = _interval(measures[measure], rate=measure.endswith("rate"))
                row[measure] = interval
                for part in _PARTS:
                    flat[f"{measure}_{part}"] = None if interval is None else interval[part]
            # The difference belongs to the comparison: it is written on the challenger's row.
            shown = difference if arm == "challenger" else None
            row["difference"] = shown
            for part in _PARTS:
                flat[f"cure_rate_difference_{part}"] = None if shown is None else shown[part]
            row["flat"] = flat
            rows.append(row)
    return tuple(rows)


def performance(session: Session, day: dt.date) -> Performance | None:
    """The collections section as of business date ``day``; None before any case opened."""
    if not session.scalar(select(func.count()).select_from(CollectionCase)):
        return None
    book = load_cases(session, day)
    report = collections_report(session, day, book)
    currency = str(report["currency"])
    stages = tuple(
        {
            "stage": name,
            "entered": report["by_stage"][name]["entered"],
            "rolled_forward": report["by_stage"][name]["rolled_forward"],
            "roll_rate_percent": percent(report["by_stage"][name]["roll_rate"]),
            "cured": report["by_stage"][name]["cured"],
            "cure_rate_percent": percent(report["by_stage"][name]["cure_rate"]),
            "recovered": report["by_stage"][name]["recovered"],
            "recovery_rate_percent": percent(report["by_stage"][name]["recovery_rate"]),
        }
        for _, _, name in STAGES
    )
    promises = report["promises"]
    return Performance(
        currency=currency,
        business_date=day,
        cases=report["cases"],
        total={**report["total"], "cure_rate_percent": percent(report["total"]["cure_rate"])},
        stages=StageRates(currency, stages),
        promises=Promises(
            currency,
            made=promises["made"],
            pending=promises["pending"],
            kept=promises["kept"],
            broken=promises["broken"],
            keep_rate_percent=percent(promises["keep_rate"]),
            promised=promises["promised"],
            paid_against=promises["paid_against"],
        ),
        arms=Arms(currency, _arm_rows(strategies_report(session, day, book))),
        agencies=Agencies(
            currency,
            tuple(
                {
                    "agency_id": row["agency_id"],
                    "agency": row["name"],
                    "placements": row["placements"],
                    "open": row["open"],
                    "placed_balance": row["placed_balance"],
                    "collected": row["collected"],
                    "commission": row["commission"],
                    "net": row["net"],
                    "recovery_rate_percent": percent(row["recovery_rate"]),
                }
                for row in report["agencies"]
            ),
        ),
    )
