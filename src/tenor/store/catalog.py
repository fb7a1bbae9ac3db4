"""Every capability's tables on Tenor's one metadata: import this module to know them all.

Each capability keeps its tables beside its code (``tenor.<capability>.tables``) on
``tenor.store.models.Base``; whatever works on the whole schema (Alembic's environment, the
demo emptying a PostgreSQL book) imports them here, in one place.
"""

from __future__ import annotations

from tenor.audit import tables as audit_tables
from tenor.batch import tables as close_tables
from tenor.bureau import tables as bureau_tables
from tenor.notify import tables as notify_tables
from tenor.relief import tables as relief_tables
from tenor.risk import tables as risk_tables
from tenor.store.models import Base
from tenor.web import tables as web_tables

#: The modules whose tables join the core's (borrowers, products, loans, journal, ...).
CAPABILITY_TABLES = (
    audit_tables,
    close_tables,
    bureau_tables,
    notify_tables,
    relief_tables,
    risk_tables,
    web_tables,
)

__all__ = ["CAPABILITY_TABLES", "Base"]
