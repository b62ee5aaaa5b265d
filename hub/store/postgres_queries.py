"""The store's queries (`hub.store.queries`) on eventsourcing's PostgreSQL recorder: positions
are the events table's notification ids, originator ids UUIDs; tables in the store's schema."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from psycopg.sql import SQL, Composed, Identifier

from hub.store.leaves import TABLE as LEDGER
from hub.store.queries import Positioned, Streams
from hub.store.record_index import TABLE as INDEX
from hub.store.recorders import LedgerPostgresRecorder
from hub.store.sql_queries import EVENT, SqlQueries


class PostgresQueries(SqlQueries):
    """The port's PostgreSQL adapter."""

    def __init__(self, recorder: LedgerPostgresRecorder) -> None:
        self.recorder = recorder
        schema = recorder.datastore.schema
        self.tables = {
            "events": Identifier(schema, recorder.events_table_name),
            "ledger": Identifier(schema, LEDGER),
            "index": Identifier(schema, INDEX),
        }

    def _sql(self, text: str) -> Composed:
        return SQL(text).format(**self.tables)

    def _rows(self, text: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        # The shared statements mark parameters qmark-style; psycopg takes %s.
        with self.recorder.datastore.transaction(commit=False) as curs:
            curs.execute(self._sql(text.replace("?", "%s")), list(params))
            return [tuple(r.values()) for r in curs.fetchall()]

    def events_of_many(self, ids: Sequence[UUID]) -> list[StoredEvent]:
        rows = self._rows(
            f"SELECT {EVENT} FROM {{events}} WHERE originator_id = ANY(%s) "
            "ORDER BY originator_id, originator_version",
            [list(ids)],
        )
        return [StoredEvent(o, int(v), str(t), bytes(s)) for o, v, t, s in rows]

    def events_with_positions(self, originator: UUID) -> list[Positioned]:
        rows = self._rows(
            "SELECT notification_id, originator_version, topic, state FROM {events} "
            "WHERE originator_id = %s ORDER BY originator_version",
            [originator],
        )
        return [(int(p), StoredEvent(originator, int(v), str(t), bytes(s))) for p, v, t, s in rows]

    def record_events(self, source: str, recordref: str) -> list[Positioned]:
        rows = self._rows(
            f"SELECT r.notification_id, {EVENT} FROM {{index}} r JOIN {{events}} e "
            "ON e.notification_id = r.notification_id WHERE r.source = %s AND r.recordref = %s "
            "ORDER BY r.notification_id",
            [source, recordref],
        )
        return [(int(p), StoredEvent(o, int(v), str(t), bytes(s))) for p, o, v, t, s in rows]

    def ledger_nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        if not keys:
            return {}
        rows = self._rows(
            f"WITH k(s, l) AS (VALUES {', '.join(['(%s::bigint, %s::int)'] * len(keys))}) "
            "SELECT size, level, hash FROM k JOIN {ledger} ON size = s AND level = l",
            [v for key in keys for v in key],
        )
        return {(int(s), int(lv)): bytes(h) for s, lv, h in rows}

    @contextmanager
    def snapshot(self) -> Iterator[Streams]:
        # One repeatable-read transaction, read by two server-side cursors.
        with self.recorder.datastore.get_connection() as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                with (
                    conn.cursor(name="hub_verify_events") as first,
                    conn.cursor(name="hub_verify_ledger") as second,
                ):
                    first.itersize = second.itersize = 10_000
                    first.execute(
                        self._sql(
                            f"SELECT notification_id, {EVENT} FROM {{events}} "
                            "ORDER BY notification_id"
                        )
                    )
                    second.execute(
                        self._sql(
                            "SELECT size, level, hash, notification_id FROM {ledger} "
                            "ORDER BY size, level"
                        )
                    )
                    yield (
                        (tuple(r.values()) for r in first),
                        (tuple(r.values()) for r in second),
                    )
            finally:
                conn.rollback()
