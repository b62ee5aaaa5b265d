"""eventsourcing's SQLite and PostgreSQL process recorders, each adding the audit ledger's rows
(`hub.store.leaves`) to the transaction that inserts the events: one class per backend."""

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteCursor, SQLiteProcessRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from hub.store.leaves import TABLE, event_leaf, extend, frontier_keys
from schemas.errors import HubError

SQLITE_DDL = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (size INTEGER NOT NULL, level INTEGER NOT NULL, "
    "hash BLOB NOT NULL, notification_id INTEGER, PRIMARY KEY (size, level)) WITHOUT ROWID",
    f"CREATE UNIQUE INDEX IF NOT EXISTS {TABLE}_notification ON {TABLE} (notification_id) "
    "WHERE level = 0",
)


def _where_keys(keys: Sequence[tuple[int, int]], mark: str) -> str:
    return " OR ".join([f"(size = {mark} AND level = {mark})"] * len(keys)) or "FALSE"


class LedgerSQLiteRecorder(SQLiteProcessRecorder):
    """eventsourcing's SQLite process recorder that also appends the events to the ledger."""

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *SQLITE_DDL]

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
        return ids


class LedgerPostgresRecorder(PostgresProcessRecorder):
    """eventsourcing's PostgreSQL process recorder that also appends the events to the ledger
    (after the events table is locked and the notification ids are known)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        table = Identifier(self.datastore.schema, TABLE)
        self.ledger_table: Composed = SQL("{}").format(table)
        self.sql_create_statements += [
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (size BIGINT NOT NULL, level SMALLINT NOT NULL, "
                "hash BYTEA NOT NULL, notification_id BIGINT, PRIMARY KEY (size, level))"
            ).format(table),
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} (notification_id) WHERE level = 0"
            ).format(Identifier(f"{TABLE}_notification"), table),
        ]
        if self.datastore.enable_db_functions:
            raise HubError("the audit ledger needs POSTGRES_ENABLE_DB_FUNCTIONS off")

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
        return ids
