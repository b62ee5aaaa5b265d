"""eventsourcing's SQLite and PostgreSQL process recorders, each also writing, in the
transaction that inserts the events, the audit ledger's rows (`hub.store.leaves`) and the index
of agency events (`hub.store.record_index`); on open each fills the index in for events stored
before it (see `hub.store.record_index`)."""

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteCursor, SQLiteProcessRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from hub.store import record_index
from hub.store.leaves import TABLE, event_leaf, extend, frontier_keys
from hub.store.record_index import BACKFILL_BATCH, MARK, RECORDED, index_rows, rows_of
from schemas.errors import HubError

INDEX = record_index.TABLE
SQLITE_DDL = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (size INTEGER NOT NULL, level INTEGER NOT NULL, "
    "hash BLOB NOT NULL, notification_id INTEGER, PRIMARY KEY (size, level)) WITHOUT ROWID",
    f"CREATE UNIQUE INDEX IF NOT EXISTS {TABLE}_notification ON {TABLE} (notification_id) "
    "WHERE level = 0",
    f"CREATE TABLE IF NOT EXISTS {INDEX} (notification_id INTEGER PRIMARY KEY, "
    "source TEXT NOT NULL, recordref TEXT NOT NULL, event_id TEXT NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {INDEX}_record ON {INDEX} (source, recordref)",
    f"CREATE INDEX IF NOT EXISTS {INDEX}_event ON {INDEX} (source, event_id)",
    f"CREATE TABLE IF NOT EXISTS {MARK} (one INTEGER PRIMARY KEY CHECK (one = 1), "
    "indexed_to INTEGER NOT NULL)",
)
# Past the mark, the recorded events without an index row (the oldest first).
UNINDEXED = (
    "SELECT {id}, topic, state FROM {events} e WHERE {id} > {m} AND topic = {m} "
    "AND NOT EXISTS (SELECT 1 FROM {index} r WHERE r.notification_id = e.{id}) "
    "ORDER BY {id} LIMIT {m}"
)


def _where_keys(keys: Sequence[tuple[int, int]], mark: str) -> str:
    return " OR ".join([f"(size = {mark} AND level = {mark})"] * len(keys)) or "FALSE"


class LedgerSQLiteRecorder(SQLiteProcessRecorder):
    """eventsourcing's SQLite process recorder that also appends the events to the ledger."""

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *SQLITE_DDL]

    def create_table(self) -> None:
        super().create_table()
        unindexed = UNINDEXED.format(id="rowid", events=self.events_table_name, index=INDEX, m="?")
        with self.datastore.transaction(commit=True) as c:
            # A write first, so the transaction holds the write lock from its start (waiting
            # for a writer, not failing on a snapshot another writer has moved on from).
            c.execute(f"INSERT OR IGNORE INTO {MARK} (one, indexed_to) VALUES (1, 0)")
            c.execute(f"SELECT indexed_to FROM {MARK}")
            after = int(c.fetchone()[0])
            while True:
                c.execute(unindexed, [after, RECORDED, BACKFILL_BATCH])
                found = [(int(r[0]), str(r[1]), bytes(r[2])) for r in c.fetchall()]
                if not found:
                    break
                c.executemany(f"INSERT INTO {INDEX} VALUES (?, ?, ?, ?)", rows_of(found))
                after = found[-1][0]
            c.execute(
                f"UPDATE {MARK} SET indexed_to = "
                f"(SELECT COALESCE(MAX(rowid), 0) FROM {self.events_table_name})"
            )

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        if ids and stored_events:
            # The first INSERT took SQLite's write lock, so no other writer moves the tree.
            c.execute(f"SELECT MAX(size) FROM {TABLE}")
            size = int(c.fetchone()[0] or 0)
            keys = frontier_keys(size)
            c.execute(
                f"SELECT level, hash FROM {TABLE} WHERE {_where_keys(keys, '?')}",
                [v for key in keys for v in key],
            )
            frontier = {int(r[0]): bytes(r[1]) for r in c.fetchall()}
            leaves = [(i, event_leaf(e)) for i, e in zip(ids, stored_events, strict=True)]
            c.executemany(
                f"INSERT INTO {TABLE} (size, level, hash, notification_id) VALUES (?, ?, ?, ?)",
                extend(size, frontier, leaves),
            )
            c.executemany(
                f"INSERT INTO {INDEX} VALUES (?, ?, ?, ?)", index_rows(ids, stored_events)
            )
        return ids


class LedgerPostgresRecorder(PostgresProcessRecorder):
    """eventsourcing's PostgreSQL process recorder that also appends the events to the ledger
    (after the events table is locked and the notification ids are known)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schema = self.datastore.schema
        table, index, mark = (Identifier(schema, t) for t in (TABLE, INDEX, MARK))
        self.ledger_table: Composed = SQL("{}").format(table)
        self.index_table: Composed = SQL("{}").format(index)
        self.mark_table: Composed = SQL("{}").format(mark)
        self.sql_create_statements += [
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (size BIGINT NOT NULL, level SMALLINT NOT NULL, "
                "hash BYTEA NOT NULL, notification_id BIGINT, PRIMARY KEY (size, level))"
            ).format(table),
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} (notification_id) WHERE level = 0"
            ).format(Identifier(f"{TABLE}_notification"), table),
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (notification_id BIGINT PRIMARY KEY, "
                "source TEXT NOT NULL, recordref TEXT NOT NULL, event_id TEXT NOT NULL)"
            ).format(index),
            SQL("CREATE INDEX IF NOT EXISTS {} ON {} (source, recordref)").format(
                Identifier(f"{INDEX}_record"), index
            ),
            SQL("CREATE INDEX IF NOT EXISTS {} ON {} (source, event_id)").format(
                Identifier(f"{INDEX}_event"), index
            ),
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (one SMALLINT PRIMARY KEY CHECK (one = 1), "
                "indexed_to BIGINT NOT NULL)"
            ).format(mark),
        ]
        if self.datastore.enable_db_functions:
            raise HubError("the audit ledger needs POSTGRES_ENABLE_DB_FUNCTIONS off")

    def create_table(self) -> None:
        super().create_table()
        events = Identifier(self.datastore.schema, self.events_table_name)
        unindexed = SQL(
            UNINDEXED.format(id="notification_id", events="{events}", index="{index}", m="%s")
        ).format(events=events, index=self.index_table)
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)  # as a writer does: no event is inserted meanwhile
            curs.execute(
                SQL("INSERT INTO {} VALUES (1, 0) ON CONFLICT DO NOTHING").format(self.mark_table)
            )
            curs.execute(SQL("SELECT indexed_to FROM {}").format(self.mark_table))
            row = curs.fetchone()
            after = int(row["indexed_to"]) if row else 0
            while True:
                curs.execute(unindexed, [after, RECORDED, BACKFILL_BATCH])
                found = [
                    (int(r["notification_id"]), str(r["topic"]), bytes(r["state"]))
                    for r in curs.fetchall()
                ]
                if not found:
                    break
                self._insert_index(curs, rows_of(found))
                after = found[-1][0]
            curs.execute(
                SQL(
                    "UPDATE {} SET indexed_to = (SELECT COALESCE(MAX(notification_id), 0) FROM {})"
                ).format(self.mark_table, events)
            )

    def _insert_index(self, curs: Cursor[DictRow], rows: Sequence[tuple[Any, ...]]) -> None:
        if rows:
            curs.executemany(
                SQL("INSERT INTO {} VALUES (%s, %s, %s, %s)").format(self.index_table), rows
            )

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if ids:
            # eventsourcing holds the events table's EXCLUSIVE lock: writers are serialised.
            curs.execute(SQL("SELECT MAX(size) AS size FROM {}").format(self.ledger_table))
            row = curs.fetchone()
            size = int(row["size"] or 0) if row else 0
            keys = frontier_keys(size)
            curs.execute(
                SQL("SELECT level, hash FROM {} WHERE " + _where_keys(keys, "%s")).format(
                    self.ledger_table
                ),
                [v for key in keys for v in key],
            )
            frontier = {int(r["level"]): bytes(r["hash"]) for r in curs.fetchall()}
            leaves = [(i, event_leaf(e)) for i, e in zip(ids, stored_events, strict=True)]
            curs.executemany(
                SQL(
                    "INSERT INTO {} (size, level, hash, notification_id) VALUES (%s, %s, %s, %s)"
                ).format(self.ledger_table),
                extend(size, frontier, leaves),
            )
            self._insert_index(curs, index_rows(ids, stored_events))
        return ids
