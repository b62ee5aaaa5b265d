"""Ingest's duplicate set on PostgreSQL: table `hub_seen` in the store's own schema, shared by
every gateway process, so an event accepted through one is a duplicate through any other.

    connection = OwnConnection(connect)  # hub.keys.postgres: one connection, remade if lost
    seen = PostgresSeen(connection, "hub")  # the store's POSTGRES_SCHEMA
    seen.known([(source, id_)])     # those already accepted: one query for the lot
    seen.remember([(source, id_)])  # after they are safely in the log
    connection.close()              # the connection is the caller's, as for the record keys

Keys travel as two arrays (`unnest`), not one bound value each, so a batch of any size is one
statement (PostgreSQL allows 65,535 bound values in one). Several processes may remember the
same keys at once: `on conflict do nothing`, in sorted order, so their inserts wait on each
other in one order and never deadlock.
"""

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from hub.ingest.seen import Seen
from hub.keys.postgres import DDL_LOCK, Connection, row_values

TABLE = "hub_seen"
"""The duplicate set's table, in the PostgreSQL store's schema."""


class PostgresSeen(Seen):
    """The PostgreSQL Seen: table `hub_seen` (primary key source, id) in the store's schema,
    on a connection given as `hub.keys.postgres.PostgresRecordKeys` is given one."""

    def __init__(self, connection: Connection, schema: str | None = None) -> None:
        from psycopg import sql

        self._connection = connection
        self._lock = threading.Lock()  # one statement at a time on a shared connection
        self._table = sql.Identifier(schema or "public", TABLE)
        ddl = sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (source text NOT NULL, id text NOT NULL, "
            "PRIMARY KEY (source, id))"
        ).format(self._table)
        # Two processes making the table at once can collide in the catalogue: one at a time.
        with self._connected() as con, con.transaction():
            con.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK,))
            con.execute(ddl)

    @contextmanager
    def _connected(self) -> Iterator[Any]:
        with self._lock, self._connection() as con:
            yield con

    def _sql(self, text: str) -> Any:
        from psycopg import sql

        return sql.SQL(text).format(table=self._table)

    def known(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        asked = list(dict.fromkeys(keys))
        if not asked:
            return set()
        with self._connected() as con:
            rows = con.execute(
                self._sql(
                    "SELECT s.source, s.id FROM unnest(%s::text[], %s::text[]) AS asked(source, "
                    "id) JOIN {table} AS s ON s.source = asked.source AND s.id = asked.id"
                ),
                [[source for source, _ in asked], [id_ for _, id_ in asked]],
            ).fetchall()
        found: set[tuple[str, str]] = set()
        for row in rows:
            source, id_ = row_values(row)
            found.add((source, id_))
        return found

    def remember(self, keys: Sequence[tuple[str, str]]) -> None:
        ordered = sorted(set(keys))
        if not ordered:
            return
        with self._connected() as con:
            con.execute(
                self._sql(
                    "INSERT INTO {table} (source, id) SELECT * FROM unnest(%s::text[], "
                    "%s::text[]) ON CONFLICT (source, id) DO NOTHING"
                ),
                [[source for source, _ in ordered], [id_ for _, id_ in ordered]],
            )

    def close(self) -> None:
        """The connection belongs to whoever gave it (close that `OwnConnection`)."""
