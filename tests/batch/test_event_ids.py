"""The close's event ids: derived, not drawn, and exactly RFC 4122 name-based (SHA-1) UUIDs."""

from __future__ import annotations

import datetime as dt
import uuid

from hypothesis import given
from hypothesis import strategies as st

from tenor.batch.sqlbook import _EVENT_NAMESPACE, close_event_id


@given(
    loan_id=st.integers(min_value=1, max_value=10**12),
    day=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31)),
    kind=st.sampled_from(["penalty", "bucket", "class"]) | st.text(max_size=20),
)
def test_a_close_event_id_is_the_uuid5_of_its_loan_date_and_kind(
    loan_id: int, day: dt.date, kind: str
) -> None:
    expected = uuid.uuid5(_EVENT_NAMESPACE, f"{loan_id}/{day.isoformat()}/{kind}")
    assert close_event_id(loan_id, day, kind) == str(expected)
    assert uuid.UUID(close_event_id(loan_id, day, kind)).version == 5
