"""The index of agency events the recorders keep beside the stored events:

    hub_record_events(notification_id, source, recordref, event_id)

one row per stored `Journey.AgencyEventRecorded` event, written by the recorder in the same
transaction as the event (`hub.store.recorders`), so a record's events (erasure) and an agency
event's position (the auditor's proof of an event) are index lookups, not searches through the
stored state. The row's fields are read from the state as the transcoder wrote it (JSON: the
hub's store neither compresses nor encrypts states); a state that is not JSON gets no row.

A store made before the index (or written by an older hub) has events without rows. The
recorders fill them in when the store is opened (`create_table`): every recorded event past
the high-water mark kept in

    hub_record_events_mark(one, indexed_to)

that has no row gets one, and the mark moves to the store's last position, in one transaction
that writers wait for (SQLite's write lock; on PostgreSQL the events table's EXCLUSIVE lock,
as eventsourcing's own writers take it). Each open so reads only the events stored since the
last one.
"""

from collections.abc import Iterable, Sequence

import orjson
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from hub.domain.journey import Journey

TABLE = "hub_record_events"
MARK = "hub_record_events_mark"
RECORDED = get_topic(Journey.AgencyEventRecorded)
BACKFILL_BATCH = 10_000

IndexRow = tuple[int, str, str, str]  # notification id, source, recordref, event id


def index_row(notification_id: int, topic: str, state: bytes) -> IndexRow | None:
    """The index row of one stored event; None for an event of another kind."""
    if topic != RECORDED:
        return None
    try:
        fields = orjson.loads(state)
        return notification_id, fields["source"], fields["recordref"], fields["event_id"]
    except (orjson.JSONDecodeError, TypeError, KeyError):
        return None


def index_rows(ids: Sequence[int], events: Sequence[StoredEvent]) -> list[IndexRow]:
    """The index rows of the events just inserted at `ids`."""
    return rows_of(
        (i, e.topic, e.state) for i, e in zip(ids, events, strict=True) if e.topic == RECORDED
    )


def rows_of(stored: Iterable[tuple[int, str, bytes]]) -> list[IndexRow]:
    """The index rows of (notification id, topic, state) triples."""
    return [row for i, topic, state in stored if (row := index_row(i, topic, bytes(state)))]
