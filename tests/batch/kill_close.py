"""Run a close that kills its own process with SIGKILL after a number of partitions.

``python -m tests.batch.kill_close URL THROUGH PARTITION_SIZE KILL_AFTER``: the kill comes
right after the KILL_AFTER-th partition of this run has committed, as a power cut would.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys

from tenor.batch.close import close_book
from tenor.batch.sqlbook import PartitionCounts
from tenor.store.database import Database


def main() -> None:
    """Close through the date given, and die after the number of partitions given."""
    url, through, size, kill_after = sys.argv[1:5]
    done = 0

    def on_partition(_counts: PartitionCounts, _done: int, _total: int) -> None:
        nonlocal done
        done += 1
        if done == int(kill_after):
            os.kill(os.getpid(), signal.SIGKILL)

    close_book(
        Database(url),
        through=dt.date.fromisoformat(through),
        partition_size=int(size),
        on_partition=on_partition,
    )


if __name__ == "__main__":
    main()
