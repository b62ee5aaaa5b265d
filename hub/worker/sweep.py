"""Sweeping the record keys no committed entry uses.

    swept = sweep_unused_keys(log, keys, worker.next_offset, now, SWEEP_AFTER)

Ingest makes a record's key before the entry sealed under it is committed (the gateway's
Kafka transaction, or a plain append), and confirms it after (`RecordKeys.confirm`); the worker
confirms the key of every entry it applies too, in case ingest died between the two. A key
still pending after that was made for an entry that never reached the log: the transaction
aborted, or the gateway died first. It protects nothing and is deleted.

Only once the store has applied the log to the end read now, and only keys made `older_than`
ago: any transaction that made one has ended by then (the broker aborts one open past its
timeout, far shorter, and the gateway gives up on a batch it prepared long ago), so an entry
it committed is below that end and its key has been confirmed.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from hub.keys.port import RecordKeys
from hub.log import EventLog

SWEEP_AFTER = timedelta(hours=1)
"""How old a record key no entry uses must be before it is deleted."""
SWEEP_EVERY_S = 600.0
"""How often a running worker sweeps (when it has nothing to read)."""


def sweep_unused_keys(
    log: EventLog,
    keys: RecordKeys,
    next_offset: Callable[[int], int],
    now: datetime,
    older_than: timedelta = SWEEP_AFTER,
) -> int:
    """Delete the pending keys made before `now - older_than`, if the store's positions
    (`next_offset`) have reached the log's end; return how many (0 while entries wait)."""
    cutoff = now - older_than
    ends = log.end_offsets()
    if any(next_offset(p) < end for p, end in ends.items()):
        return 0
    return keys.sweep(cutoff)
