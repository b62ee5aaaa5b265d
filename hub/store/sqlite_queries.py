"""The store's queries (`hub.store.queries`) on eventsourcing's SQLite recorder: positions are
the events table's rowids, originator ids its 32 hex digits."""

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from hub.store.leaves import TABLE as LEDGER
from hub.store.queries import Positioned, StoreQueries, Streams
from hub.store.record_index import TABLE as INDEX
from hub.store.recorders import LedgerSQLiteRecorder

EVENT = "originator_id, originator_version, topic, state"


class SQLiteQueries(StoreQueries):
    """The port's SQLite adapter."""

    def __init__(self, recorder: LedgerSQLiteRecorder) -> None:
        self.recorder = recorder
        self.events = recorder.events_table_name

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        with self.recorder.datastore.transaction(commit=False) as curs:
            curs.execute(sql.format(events=self.events, ledger=LEDGER, index=INDEX), list(params))
            return list(curs.fetchall())

    def _event(self, row: Sequence[Any]) -> StoredEvent:
        originator = self.recorder.convert_originator_id(row[0])
        return StoredEvent(originator, int(row[1]), str(row[2]), bytes(row[3]))

    def events_of_many(self, ids: Sequence[UUID]) -> list[StoredEvent]:
        marks = ",".join("?" * len(ids))
        rows = self._rows(
            f"SELECT {EVENT} FROM {{events}} WHERE originator_id IN ({marks}) "
            "ORDER BY originator_id, originator_version",
            [i.hex for i in ids],
        )
        return [self._event(tuple(r)) for r in rows]

    def events_with_positions(self, originator: UUID) -> list[Positioned]:
        rows = self._rows(
            "SELECT rowid, originator_version, topic, state FROM {events} "
            "WHERE originator_id = ? ORDER BY originator_version",
            [originator.hex],
        )
        return [(int(p), StoredEvent(originator, int(v), str(t), bytes(s))) for p, v, t, s in rows]

    def record_events(self, source: str, recordref: str) -> list[Positioned]:
        rows = self._rows(
            f"SELECT r.notification_id, {EVENT} FROM {{index}} r JOIN {{events}} e "
            "ON e.rowid = r.notification_id WHERE r.source = ? AND r.recordref = ? "
            "ORDER BY r.notification_id",
            [source, recordref],
        )
        return [(int(r[0]), self._event(tuple(r)[1:])) for r in rows]

    def record_event_count(self, source: str, recordref: str) -> int:
        rows = self._rows(
            "SELECT COUNT(*) FROM {index} WHERE source = ? AND recordref = ?", [source, recordref]
        )
        return int(rows[0][0])

    def position_of_event(self, source: str, event_id: str) -> int | None:
        rows = self._rows(
            "SELECT MIN(notification_id) FROM {index} WHERE source = ? AND event_id = ?",
            [source, event_id],
        )
        return None if rows[0][0] is None else int(rows[0][0])

    def ledger_size(self) -> int:
        return int(self._rows("SELECT MAX(size) FROM {ledger}")[0][0] or 0)

    def ledger_nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        if not keys:
            return {}
        rows = self._rows(
            f"WITH k(s, l) AS (VALUES {', '.join(['(?, ?)'] * len(keys))}) "
            "SELECT size, level, hash FROM k JOIN {ledger} ON size = s AND level = l",
            [v for key in keys for v in key],
        )
        return {(int(s), int(lv)): bytes(h) for s, lv, h in rows}

    def ledger_leaf(self, index: int) -> tuple[int, bytes] | None:
        rows = self._rows(
            "SELECT notification_id, hash FROM {ledger} WHERE size = ? AND level = 0", [index + 1]
        )
        return (int(rows[0][0]), bytes(rows[0][1])) if rows else None

    def leaf_at(self, notification_id: int) -> int | None:
        rows = self._rows(
            "SELECT size FROM {ledger} WHERE notification_id = ? AND level = 0", [notification_id]
        )
        return int(rows[0][0]) - 1 if rows else None

    def leaf_with_hash(self, hashed: bytes) -> int | None:
        rows = self._rows("SELECT MIN(size) FROM {ledger} WHERE level = 0 AND hash = ?", [hashed])
        return None if rows[0][0] is None else int(rows[0][0]) - 1

    @contextmanager
    def snapshot(self) -> Iterator[Streams]:
        # A read-only connection of its own, in one read transaction: both streams see the
        # same state, and the recorder's connections stay free for writers.
        db = sqlite3.connect(f"file:{self.recorder.datastore.pool.db_name}?mode=ro", uri=True)
        try:
            db.execute("BEGIN")
            yield (
                db.execute(f"SELECT rowid, {EVENT} FROM {self.events} ORDER BY rowid"),
                db.execute(
                    f"SELECT size, level, hash, notification_id FROM {LEDGER} ORDER BY size, level"
                ),
            )
        finally:
            db.close()
