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

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import ApplicationRecorder
from psycopg.sql import SQL, Identifier

from hub.store.leaves import TABLE, node_key
from hub.store.merkle import path, proof, root_of, subtree_of
from hub.store.recorders import LedgerPostgresRecorder, LedgerSQLiteRecorder
from schemas.errors import HubError


class LedgerError(HubError):
    """The ledger cannot answer (no such leaf or size); the message says which."""

    status = 404
    field = "leaf"


# -- writing: eventsourcing's recorders, with the ledger in the same transaction --------------


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
