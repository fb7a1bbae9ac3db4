"""What the daily close does for risk: champion scores for the day's borrowers, and the day's
early-warning summary.

:func:`close_day` runs in the close's finishing transaction (``tenor.batch.close``):

1. **Scores.** For each loan the day touched (its journal grew: a disbursement, a payment, the
   close's own penalty or bucket move), the borrower is scored by the champion of the PD model
   their risk profile is shaped for (``pd-<dataset>``), at most once per champion and month:
   a borrower already scored this month by this champion is skipped. So the cost follows the
   day's events, not the size of the book, and a newly promoted champion reaches each active
   borrower the first time their loans move. Each score is kept twice in the same
   transaction: in ``risk_scores`` (subject ``borrower-<id>``, for stability monitoring) and
   in relief's ``credit_scores`` (source ``<model> v<version>``, as of the business date),
   where relief eligibility reads a borrower's latest score. Scoring goes through
   :func:`tenor.risk.registry.score_frame`, as the API does, so both give the same score.
2. **Summary.** Open watchlist entries by severity, open and overdue post-loan tasks, and
   loans the watchlist moves to a higher IFRS 9 stage, as they stand at the end of the day,
   kept per business date in ``risk_close_days`` for the daily summary
   (:func:`day_summary`).

Nothing here stops the close: a borrower whose profile cannot be scored is counted in
``errors`` and left out; without a champion, nothing is scored.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from tenor.batch.sqlbook import CLOSE_ACTOR
from tenor.batch.tables import CloseDay
from tenor.risk.actions import (
    record_model_scores,
    stage_summary,
    task_summary,
    watchlist_summary,
)
from tenor.risk.tables import RiskCloseDay, RiskModel, RiskProfile, RiskScore
from tenor.store.bulk import among
from tenor.store.journal import NotFoundError
from tenor.store.models import JournalEntry, Loan


def subject_of(borrower_id: int) -> str:
    """The ``risk_scores`` subject of a borrower."""
    return f"borrower-{borrower_id}"


def source_of(model: RiskModel) -> str:
    """The ``credit_scores`` source of a model's scores: its name and version."""
    return f"{model.name} v{model.version}"[:64]


def loans_of_day(session: Session, day: dt.date) -> list[int]:
    """The loans the day wrote to: their journal grew between the previous close's mark and
    this one's (payments, disbursements, other writes), or this close appended to it (penalty
    interest, bucket and class moves). The previous close's own rows, which lie before this
    close's mark, were its day's.

    A range of the journal's primary key, so it costs what the day wrote.
    """
    marks = session.execute(
        select(CloseDay.journal_from, CloseDay.journal_to).where(CloseDay.business_date == day)
    ).one_or_none()
    if marks is None:
        return []
    start, mark = marks
    query = select(JournalEntry.loan_id).where(
        JournalEntry.id > start, (JournalEntry.actor != CLOSE_ACTOR) | (JournalEntry.id > mark)
    )
    return sorted(session.scalars(query.distinct()))


def _borrowers(session: Session, loan_ids: Sequence[int]) -> list[int]:
    found: set[int] = set()
    for condition in among(session, Loan.id, loan_ids):
        found.update(session.scalars(select(Loan.borrower_id).where(condition)))
    return sorted(found)


def _profiles(session: Session, borrower_ids: Sequence[int]) -> dict[int, RiskProfile]:
    """Each borrower's profile in force (the newest), for those who have one."""
    latest: dict[int, RiskProfile] = {}
    for condition in among(session, RiskProfile.borrower_id, borrower_ids):
        rows = session.scalars(select(RiskProfile).where(condition).order_by(RiskProfile.id))
        for row in rows:
            latest[row.borrower_id] = row
    return latest


def score_borrowers(session: Session, day: dt.date, borrower_ids: Sequence[int]) -> dict[str, Any]:
    """Score ``borrower_ids`` by their profile's champion, once per champion and month.

    Returns what was done: ``scored`` (new scores), ``already`` (scored earlier this month by
    the same champion), ``unprofiled``, ``no_champion`` and ``errors`` (rows the model could
    not score), and ``models`` (the champions that scored, with their counts).
    """
    any_champion = session.scalar(
        select(RiskModel.id)
        .where(RiskModel.status == "champion", RiskModel.kind == "scorecard")
        .limit(1)
    )
    # Without a champion there is nothing to score: not even the profiles are read.
    profiles = _profiles(session, borrower_ids) if any_champion is not None else {}
    by_dataset: defaultdict[str, list[RiskProfile]] = defaultdict(list)
    for profile in profiles.values():
        by_dataset[profile.dataset].append(profile)
    month = day.strftime("%Y-%m")
    result: dict[str, Any] = {
        "borrowers": len(borrower_ids),
        "scored": 0,
        "already": 0,
        "unprofiled": len(borrower_ids) - len(profiles) if any_champion is not None else 0,
        "no_champion": 0 if any_champion is not None else len(borrower_ids),
        "errors": 0,
        "models": {},
    }
    if by_dataset:
        # The model libraries (seconds to import) load only when there is something to score.
        from tenor.risk.registry import champion, score_frame  # noqa: PLC0415
    for dataset, group in sorted(by_dataset.items()):
        try:
            model, card = champion(session, f"pd-{dataset}")
        except NotFoundError:
            result["no_champion"] += len(group)
            continue
        subjects = {subject_of(profile.borrower_id): profile for profile in group}
        done: set[str] = set()
        for condition in among(session, RiskScore.subject, subjects):
            done.update(
                session.scalars(
                    select(RiskScore.subject).where(
                        RiskScore.model_id == model.id, RiskScore.month == month, condition
                    )
                )
            )
        todo = [profile for subject, profile in sorted(subjects.items()) if subject not in done]
        result["already"] += len(done)
        if not todo:
            continue
        frame = applicant_frame([profile.characteristics for profile in todo], card.inputs)
        try:
            scored = score_frame(card, frame, reasons=0)
            indices = card.bin_indices(frame)
        except ValueError:
            result["errors"] += len(todo)
            continue
        scores = [
            (profile.borrower_id, int(scored["score"].iat[position]))
            for position, profile in enumerate(todo)
        ]
        session.execute(
            insert(RiskScore),
            [
                {
                    "model_id": model.id,
                    "month": month,
                    "subject": subject_of(profile.borrower_id),
                    "score": int(scored["score"].iat[position]),
                    "probability": float(scored["probability"].iat[position]),
                    "bins": {
                        name: int(indices[name].iat[position]) for name in card.characteristics
                    },
                }
                for position, profile in enumerate(todo)
            ],
        )
        recorded = record_model_scores(
            session, scores, source=source_of(model), as_of=day, actor=CLOSE_ACTOR
        )
        result["scored"] += recorded
        result["errors"] += len(scores) - recorded
        result["models"][model.name] = {
            "id": model.id,
            "version": model.version,
            "scored": recorded,
        }
    return result


def applicant_frame(records: Sequence[dict[str, Any]], columns: Sequence[str]) -> Any:
    """A frame of applicants with exactly ``columns`` (a characteristic a profile lacks is
    missing), as the registry's :func:`~tenor.risk.registry.score_frame` takes it."""
    import pandas as pd  # noqa: PLC0415 - the model libraries load with the first score

    return pd.DataFrame.from_records(
        [{name: record.get(name) for name in columns} for record in records], columns=columns
    )


def close_day(
    session: Session, business_date: dt.date, loan_ids: Sequence[int] | None = None
) -> dict[str, Any]:
    """Risk's part of the close of ``business_date``, in the close's finishing transaction.

    Scores the borrowers of ``loan_ids`` (default: :func:`loans_of_day`) by the champions and
    writes the day's early-warning summary (replacing one a rerun wrote before); returns it.
    """
    touched = loans_of_day(session, business_date) if loan_ids is None else list(loan_ids)
    scores = score_borrowers(session, business_date, _borrowers(session, touched))
    summary = {
        "scores": scores,
        "watchlist": watchlist_summary(session),
        "tasks": task_summary(session, business_date),
        "stage_moves": stage_summary(session),
    }
    session.execute(delete(RiskCloseDay).where(RiskCloseDay.business_date == business_date))
    session.add(RiskCloseDay(business_date=business_date, summary=summary))
    session.flush()
    return summary


def day_summary(session: Session, business_date: dt.date) -> dict[str, Any] | None:
    """The early-warning summary the close of ``business_date`` wrote (None: none written)."""
    row = session.get(RiskCloseDay, business_date)
    return None if row is None else row.summary


def summary_lines(summary: dict[str, Any] | None) -> list[str]:
    """The day's early-warning summary for people (zh-CN and en), as the close prints it."""
    if summary is None:
        return []
    watch, tasks = summary["watchlist"], summary["tasks"]
    moved = sum(summary["stage_moves"].values())
    lines = [
        f"Early warning 预警: {watch['breach'] + watch['warning']} watchlist entries open "
        f"({watch['breach']} breaches 违约, {watch['warning']} warnings 预警); "
        f"{tasks['open']} post-loan tasks open 贷后任务, {tasks['overdue']} overdue 逾期; "
        f"{moved} loans moved up an IFRS 9 stage by the watchlist"
    ]
    scores = summary["scores"]
    if scores["scored"] or scores["already"]:
        models = ", ".join(
            f"{name} v{item['version']}" for name, item in sorted(scores["models"].items())
        )
        lines.append(
            f"Champion scores 评分: {scores['scored']} borrowers scored"
            + (f" by {models}" if models else "")
            + f", {scores['already']} already scored this month"
        )
    return lines
