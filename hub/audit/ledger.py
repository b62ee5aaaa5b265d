"""The audit ledger: every stored event a leaf of an append-only RFC 9162 Merkle tree, written
in the same transaction as the event.

Leaves are numbered densely from 0 in notification order (notification ids may have gaps). A
leaf hashes the stored event's canonical bytes (`leaf_data`; docs/ledger.md says how to
recompute them from the database alone). Beside the leaves the table keeps every complete
subtree's hash, so a root or a proof for any size takes a few dozen rows, not the whole log:

    hub_ledger(size, level, hash, notification_id)

A row is the hash of the `2**level` leaves ending at leaf `size - 1` (the tree size at which
that subtree became complete); level-0 rows are the leaves and carry their event's
notification id. The recorders below are eventsourcing's own SQLite and PostgreSQL process
recorders with the ledger rows added to the transaction that inserts the events.

    ledger = Ledger.of(app.recorder)
    ledger.size(); ledger.root(ledger.size()); ledger.inclusion(5, ledger.size())
"""

import functools
import sqlite3
import struct
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteCursor, SQLiteProcessRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from hub.audit.merkle import leaf_hash, node_hash, path, proof, root_of, subtree_of
from schemas.errors import HubError

TABLE = "hub_ledger"
Row = tuple[int, int, bytes, int | None]  # size, level, hash, notification id (leaves only)


class LedgerError(HubError):
    """The ledger cannot answer (no such leaf or size); the message says which."""


_HEAD = struct.Struct(">16sQI").pack
_LENGTH = struct.Struct(">I").pack


def leaf_data(originator_id: UUID | str, version: int, topic: str, state: bytes) -> bytes:
    """The canonical bytes of a stored event: the originator id's 16 bytes, the version as an
    unsigned 64-bit big-endian integer, then the topic (UTF-8) and the state, each after its
    length as an unsigned 32-bit big-endian integer."""
    if isinstance(originator_id, UUID):
        uuid = originator_id.bytes
    elif len(originator_id) == 32:  # as SQLite stores it: 32 hex digits
        uuid = bytes.fromhex(originator_id)
    else:
        uuid = UUID(str(originator_id)).bytes
    name = _topic_bytes(topic)
    return b"".join((_HEAD(uuid, version, len(name)), name, _LENGTH(len(state)), state))


@functools.lru_cache(maxsize=256)
def _topic_bytes(topic: str) -> bytes:
    return topic.encode("utf-8")


def event_leaf(event: StoredEvent) -> bytes:
    """The leaf hash of a stored event."""
    return leaf_hash(
        leaf_data(event.originator_id, event.originator_version, event.topic, event.state)
    )


def frontier_keys(size: int) -> list[tuple[int, int]]:
    """The (size, level) keys of the complete subtrees a tree of `size` leaves splits into,
    largest first: one per set bit of `size`."""
    return [
        ((size >> level) << level, level)
        for level in reversed(range(size.bit_length()))
        if size >> level & 1
    ]


def extend(size: int, frontier: dict[int, bytes], leaves: Sequence[tuple[int, bytes]]) -> list[Row]:
    """The rows that append `leaves` (notification id, leaf hash) to a tree of `size` leaves
    whose complete subtrees are `frontier` (level -> hash; updated in place)."""
    rows: list[Row] = []
    for notification_id, hashed in leaves:
        size += 1
        rows.append((size, 0, hashed, notification_id))
        level, current = 0, hashed
        while (size >> level) & 1 == 0:  # the new leaf completed a subtree one level up
            current = node_hash(frontier.pop(level), current)
            level += 1
            rows.append((size, level, current, None))
        frontier[level] = current
    return rows


def node_key(level: int, index: int) -> tuple[int, int]:
    """The (size, level) key of the `index`th complete subtree of `2**level` leaves."""
    return (index + 1) << level, level


# -- writing: eventsourcing's recorders, with the ledger in the same transaction --------------

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


# -- reading -------------------------------------------------------------------------------


class Ledger:
    """Reads the ledger (and the events it covers) of one store; see the module docstring."""

    def __init__(self, recorder: LedgerSQLiteRecorder | LedgerPostgresRecorder) -> None:
        self.recorder = recorder
        self.postgres = isinstance(recorder, LedgerPostgresRecorder)

    @classmethod
    def of(cls, recorder: ApplicationRecorder) -> "Ledger":
        if not isinstance(recorder, LedgerSQLiteRecorder | LedgerPostgresRecorder):
            raise LedgerError("this store keeps no audit ledger (an in-memory store?)")
        return cls(recorder)

    # SQL is written once with `?` marks and {ledger}/{events} for the tables.
    def _sql(self, text: str) -> Any:
        recorder = self.recorder
        if isinstance(recorder, LedgerSQLiteRecorder):
            return text.format(ledger=TABLE, events=recorder.events_table_name)
        schema = recorder.datastore.schema
        return SQL(text.replace("?", "%s")).format(
            ledger=Identifier(schema, TABLE),
            events=Identifier(schema, self.recorder.events_table_name),
        )

    def query(self, text: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Rows of one read-only statement, as tuples."""
        with self.recorder.datastore.transaction(commit=False) as curs:
            curs.execute(self._sql(text), list(params))
            rows = curs.fetchall()
        return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in rows]

    def size(self) -> int:
        """How many leaves the ledger has (the current tree size)."""
        rows = self.query("SELECT MAX(size) FROM {ledger}")
        return int(rows[0][0] or 0)

    def nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored hashes of the (size, level) keys asked for (absent ones left out): one
        primary-key lookup each, in one statement per 200 keys."""
        found: dict[tuple[int, int], bytes] = {}
        unique = list(dict.fromkeys(keys))
        mark = "(?::bigint, ?::int)" if self.postgres else "(?, ?)"
        for first in range(0, len(unique), 200):
            chunk = unique[first : first + 200]
            rows = self.query(
                f"WITH k(s, l) AS (VALUES {', '.join([mark] * len(chunk))}) "
                "SELECT size, level, hash FROM k JOIN {ledger} ON size = s AND level = l",
                [v for key in chunk for v in key],
            )
            found.update(((int(s), int(lv)), bytes(h)) for s, lv, h in rows)
        return found

    def _answer(self, *builds: Callable[[Callable[[int, int], bytes]], Any]) -> list[Any]:
        """Run each of `builds` over the stored tree: once to learn which complete subtrees
        they need, then with all of them fetched in one query."""
        wanted: list[tuple[int, int]] = []

        def note(level: int, index: int) -> bytes:
            wanted.append(node_key(level, index))
            return b""

        for build in builds:
            build(subtree_of(note))
        stored = self.nodes(wanted)
        missing = [key for key in wanted if key not in stored]
        if missing:
            raise LedgerError(f"the ledger has no node {missing[0]} (size, level)")
        return [
            build(subtree_of(lambda level, index: stored[node_key(level, index)]))
            for build in builds
        ]

    def _check_size(self, size: int) -> None:
        current = self.size()
        if not 0 <= size <= current:
            raise LedgerError(f"the ledger has {current} leaves, not {size}")

    def root(self, size: int) -> bytes:
        """The tree head of the first `size` leaves."""
        self._check_size(size)
        if size == 0:
            return root_of([])
        [result] = self._answer(lambda mth: mth(0, size))
        return bytes(result)

    def proof_of(
        self, index: int, size: int | None = None
    ) -> tuple[int, bytes, bytes, list[bytes]]:
        """Leaf `index`'s inclusion in the tree of `size` leaves (default: now), in one query
        for the nodes: the size, the leaf hash, the root and the proof."""
        if size is None:
            size = self.size()
        else:
            self._check_size(size)
        if not 0 <= index < size:
            raise LedgerError(f"leaf {index} is not in a tree of {size} leaves")
        leaf, root, proof = self._answer(
            lambda mth: mth(index, index + 1),
            lambda mth: mth(0, size),
            lambda mth: path(index, size, mth),
        )
        return size, leaf, root, proof

    def leaf(self, index: int) -> tuple[int, bytes]:
        """Leaf `index`'s notification id and hash."""
        rows = self.query(
            "SELECT notification_id, hash FROM {ledger} WHERE size = ? AND level = 0", [index + 1]
        )
        if not rows:
            raise LedgerError(f"the ledger has no leaf {index} (it has {self.size()})")
        return int(rows[0][0]), bytes(rows[0][1])

    def leaf_of(self, notification_id: int) -> int:
        """The leaf index of the stored event at `notification_id`."""
        rows = self.query(
            "SELECT size FROM {ledger} WHERE notification_id = ? AND level = 0", [notification_id]
        )
        if not rows:
            raise LedgerError(f"no leaf covers the stored event at position {notification_id}")
        return int(rows[0][0]) - 1

    def inclusion(self, index: int, size: int) -> list[bytes]:
        """The inclusion proof of leaf `index` in the tree of `size` leaves."""
        self._check_size(size)
        [result] = self._answer(lambda mth: path(index, size, mth))
        return list(result)

    def consistency(self, size1: int, size2: int) -> list[bytes]:
        """The consistency proof from the tree of `size1` leaves to that of `size2`."""
        self._check_size(size2)
        [result] = self._answer(lambda mth: proof(size1, size2, mth))
        return list(result)

    @contextmanager
    def snapshot(self) -> Iterator[tuple[Iterator[tuple[Any, ...]], Iterator[tuple[Any, ...]]]]:
        """Two streams read in one consistent snapshot: the stored events in notification
        order (notification id, originator id, version, topic, state) and the ledger's rows in
        the order they were made (size, level, hash, notification id)."""
        events = (
            "SELECT {id}, originator_id, originator_version, topic, state FROM {events} "
            "ORDER BY {id}"
        )
        ledger = "SELECT size, level, hash, notification_id FROM {ledger} ORDER BY size, level"
        recorder = self.recorder
        if isinstance(recorder, LedgerSQLiteRecorder):
            pool = recorder.datastore.pool
            db = sqlite3.connect(f"file:{pool.db_name}?mode=ro", uri=True)
            try:
                db.execute("BEGIN")  # one read transaction: both streams see the same state
                yield (
                    db.execute(self._sql(events.replace("{id}", "rowid"))),
                    db.execute(self._sql(ledger)),
                )
            finally:
                db.close()
            return
        with recorder.datastore.get_connection() as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                with (
                    conn.cursor(name="hub_verify_events") as first,
                    conn.cursor(name="hub_verify_ledger") as second,
                ):
                    first.itersize = second.itersize = 10_000
                    first.execute(self._sql(events.replace("{id}", "notification_id")))
                    second.execute(self._sql(ledger))
                    yield (
                        (tuple(r.values()) for r in first),
                        (tuple(r.values()) for r in second),
                    )
            finally:
                conn.rollback()
