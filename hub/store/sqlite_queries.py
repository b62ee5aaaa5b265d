"""The store's queries (`hub.store.queries`) on eventsourcing's SQLite recorder: positions are
the events table's rowids, originator ids its 32 hex digits."""

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from hub.store.leaves import TABLE as LEDGER
from hub.store.queries import Positioned, Streams
from hub.store.record_index import TABLE as INDEX
from hub.store.recorders import LedgerSQLiteRecorder
from hub.store.sql_queries import EVENT, SqlQueries


class SQLiteQueries(SqlQueries):
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

    def ledger_nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        if not keys:
            return {}
        rows = self._rows(
            f"WITH k(s, l) AS (VALUES {', '.join(['(?, ?)'] * len(keys))}) "
            "SELECT size, level, hash FROM k JOIN {ledger} ON size = s AND level = l",
            [v for key in keys for v in key],
        )
        return {(int(s), int(lv)): bytes(h) for s, lv, h in rows}

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
