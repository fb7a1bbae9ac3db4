"""A loan in collections, for the collections tests: the builders' loan missed on 15 February."""

from __future__ import annotations

import datetime as dt

from tenor.batch.close import close_book
from tenor.collect import actions
from tenor.store.database import Database
from tests.builders import seed_loan

#: The builders' loan: 6000 CNY over six months from 15 January 2026, 1053.15 a month.
FIRST_DUE = dt.date(2026, 2, 15)


def past_due(db: Database) -> tuple[int, int]:
    """The loan, missed on 15 February and closed through then, and a desk collector's id."""
    loan_id = seed_loan(db, business_date=dt.date(2026, 2, 10))
    collector = actions.add_collector(
        db, actions.CollectorSpec(name="王芳", team="early", languages=("zh-CN", "en")), actor="t"
    )
    close_book(db, through=FIRST_DUE)
    return loan_id, collector.id
