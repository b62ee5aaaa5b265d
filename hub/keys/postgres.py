"""The PostgreSQL record-key store: table `hub_record_keys` in the event store's own schema.

    keys = PostgresRecordKeys(OwnConnection(connect), "hub")  # or the store's get_connection
    made = keys.get_or_create([(source, recordref)])  # pending until confirmed
    keys.confirm([(source, recordref)])               # an event sealed under it is in the log
    keys.sweep(datetime.now(UTC) - timedelta(hours=1))  # pending keys nobody used, deleted

A key is pending (`pending_at` holds when it was last handed out) from when `get_or_create`
makes it until `confirm`; a table made before keys could be pending gains the column on
opening, and its keys, having none, count as confirmed. Records are written in sorted order,
so gateways writing overlapping batches at once take their row locks in one order (no
deadlock).
"""

import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any

from hub.keys.port import TABLE, ErasedRecord, Record, RecordKeys
from hub.keys.sealing import new_key
from schemas.errors import HubError

DDL_LOCK = 0x68756274  # the advisory lock taken while the PostgreSQL table is made

Connection = Callable[[], AbstractContextManager[Any]]
"""Gives a psycopg connection in autocommit mode for the length of a `with` block."""


class OwnConnection:
    """One connection of the key store's own, made when first used and again when lost (a
    server restarted): `PostgresRecordKeys(OwnConnection(connect), schema)`."""

    def __init__(self, connect: Callable[[], Any]) -> None:
        self._connect = connect
        self._held: Any = None

    @contextmanager
    def __call__(self) -> Iterator[Any]:
        if self._held is None or self._held.closed:
            self._held = self._connect()
        yield self._held

    def close(self) -> None:
        if self._held is not None:
            self._held.close()


class PostgresRecordKeys(RecordKeys):
    """The PostgreSQL key store: table `hub_record_keys` in the event store's schema."""

    def __init__(self, connection: Connection, schema: str | None = None) -> None:
        from psycopg import sql

        self._connection = connection
        self._lock = threading.Lock()  # one statement sequence at a time on a shared connection
        self._schema = schema or "public"
        self._table = sql.Identifier(self._schema, TABLE)
        # Two processes making the table at once can collide in the catalogue: one at a time.
        with self._connected() as con, con.transaction():
            con.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK,))
            self._migrate(con)

    def _migrate(self, con: Any) -> None:
        """Make the table, or give one made before keys could be pending its column (NULL:
        confirmed) and index; checked first, so opening an up-to-date table takes no lock."""
        con.execute(
            self._sql(
                "CREATE TABLE IF NOT EXISTS {table} (source text NOT NULL, recordref text NOT "
                "NULL, key bytea, created_at timestamptz NOT NULL, erased_at timestamptz, "
                "events bigint, pending_at timestamptz, PRIMARY KEY (source, recordref))"
            )
        )
        column, index = row_values(
            con.execute(
                "SELECT EXISTS (SELECT FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = %s AND column_name = 'pending_at') AS has_column, EXISTS (SELECT "
                "FROM pg_indexes WHERE schemaname = %s AND indexname = %s) AS has_index",
                [self._schema, TABLE, self._schema, f"{TABLE}_pending"],
            ).fetchone()
        )
        if not column:
            con.execute(self._sql("ALTER TABLE {table} ADD COLUMN pending_at timestamptz"))
        if not index:
            con.execute(
                self._sql(
                    f"CREATE INDEX IF NOT EXISTS {TABLE}_pending ON {{table}} (pending_at) "
                    "WHERE pending_at IS NOT NULL"
                )
            )

    @contextmanager
    def _connected(self) -> Iterator[Any]:
        with self._lock, self._connection() as con:
            yield con

    def _sql(self, text: str) -> Any:
        from psycopg import sql

        return sql.SQL(text).format(table=self._table)

    def get_or_create(self, records: Collection[Record]) -> dict[Record, bytes]:
        asked = sorted(set(records))
        if not asked:
            return {}
        sources, refs = [s for s, _ in asked], [r for _, r in asked]
        with self._connected() as con:
            # A pending key handed out again is in use again: a sweep must not take it now.
            # Before the insert, so a key swept in between is made anew, not left out.
            con.execute(
                self._sql(
                    "UPDATE {table} AS k SET pending_at = now() FROM unnest(%s::text[], "
                    "%s::text[]) AS asked(s, r) WHERE k.source = asked.s AND k.recordref = "
                    "asked.r AND k.pending_at IS NOT NULL AND k.key IS NOT NULL"
                ),
                [sources, refs],
            )
            con.execute(
                self._sql(
                    "INSERT INTO {table} (source, recordref, key, created_at, pending_at) "
                    "SELECT s, r, k, now(), now() FROM unnest(%s::text[], %s::text[], "
                    "%s::bytea[]) AS asked(s, r, k) ON CONFLICT (source, recordref) DO NOTHING"
                ),
                [sources, refs, [new_key() for _ in asked]],
            )
            return self._select(con, "key", sources, refs)

    def confirm(self, records: Collection[Record]) -> None:
        asked = sorted(set(records))
        if not asked:
            return
        with self._connected() as con:
            con.execute(
                self._sql(
                    "UPDATE {table} AS k SET pending_at = NULL FROM unnest(%s::text[], "
                    "%s::text[]) AS asked(s, r) WHERE k.source = asked.s AND k.recordref = "
                    "asked.r AND k.pending_at IS NOT NULL"
                ),
                [[s for s, _ in asked], [r for _, r in asked]],
            )

    def sweep(self, made_before: datetime) -> int:
        if made_before.tzinfo is None:
            raise HubError(
                "the sweep's cutoff has no time zone, so which keys are older is unclear: give "
                "an aware time such as datetime.now(UTC) - timedelta(hours=1)",
                field="made_before",
            )
        with self._connected() as con:
            done = con.execute(
                self._sql("DELETE FROM {table} WHERE pending_at < %s AND key IS NOT NULL"),
                [made_before],
            )
            swept = int(done.rowcount)
        if swept:
            self.scrub()  # the deleted rows' keys stay in dead row versions until rewritten
        return swept

    def get(self, records: Collection[Record]) -> dict[Record, bytes]:
        asked = list(dict.fromkeys(records))
        if not asked:
            return {}
        with self._connected() as con:
            found = self._select(con, "key", [s for s, _ in asked], [r for _, r in asked])
        return found

    def _select(
        self, con: Any, column: str, sources: list[str], refs: list[str]
    ) -> dict[Record, Any]:
        rows = con.execute(
            self._sql(
                f"SELECT k.source, k.recordref, k.{column} FROM unnest(%s::text[], %s::text[]) "
                "AS asked(s, r) JOIN {table} AS k ON k.source = asked.s AND k.recordref = asked.r"
            ),
            [sources, refs],
        ).fetchall()
        found: dict[Record, Any] = {}
        for row in rows:
            source, ref, value = row_values(row)
            if column != "key" or value is not None:
                found[(source, ref)] = bytes(value) if column == "key" else value
        return found

    def lookup(self, records: Collection[Record]) -> dict[Record, datetime | None]:
        asked = list(dict.fromkeys(records))
        with self._connected() as con:
            return self._select(con, "erased_at", [s for s, _ in asked], [r for _, r in asked])

    def erase(self, record: Record, at: datetime, events: int) -> bool:
        with self._connected() as con:
            done = con.execute(
                self._sql(
                    "UPDATE {table} SET key = NULL, pending_at = NULL, erased_at = %s, events = %s "
                    "WHERE source = %s AND recordref = %s AND key IS NOT NULL"
                ),
                [at, events, *record],
            )
            return bool(done.rowcount == 1)

    def scrub(self) -> None:
        # The UPDATE left the old row version (with the key) dead in the table's pages:
        # VACUUM FULL writes the table anew and drops the old files.
        with self._connected() as con:
            con.execute(self._sql("VACUUM FULL {table}"))

    def erasures(self) -> list[ErasedRecord]:
        with self._connected() as con:
            rows = con.execute(
                self._sql(
                    "SELECT source, recordref, events, erased_at FROM {table} "
                    "WHERE erased_at IS NOT NULL ORDER BY erased_at, source, recordref"
                )
            ).fetchall()
        return [ErasedRecord(s, r, int(n or 0), at) for s, r, n, at in map(row_values, rows)]

    def close(self) -> None:
        """The connection belongs to whoever gave it."""


def row_values(row: Any) -> tuple[Any, ...]:
    """A row's values, from a tuple row or a dict row (the event store's connections)."""
    return tuple(row.values()) if isinstance(row, dict) else tuple(row)
