"""Sealed payloads: each record's personal payload encrypted under a key of its own.

Why (crypto-shredding): the audit ledger hashes every stored event's bytes, so a stored event
may never change; and a Kafka topic cannot delete one record (retention or compaction would
need every copy of it gone, and the embedded log, the rejected log and the event store are
copies too). So ingest seals what an event says about the person, its `locality` and its
`data`, with AES-256-GCM under its record's key: one random 256-bit key per `(source,
recordref)`, made with the record's first event. Everything after ingest holds only the
ciphertext; erasing a record deletes its key, which makes every copy unreadable at once.

    keys = EmbeddedRecordKeys(Path("hub-data/record-keys.sqlite"))
    key = keys.get_or_create([(source, recordref)])[(source, recordref)]
    sealed = seal(key, source, event_id, {"locality": "north", "data": {...}})
    unseal(key, source, event_id, sealed)  # {"locality": "north", "data": {...}}

A key never appears in a log line or an error message.
"""

import base64
import binascii
import secrets
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from schemas.errors import HubError

Record = tuple[str, str]
"""A record: its agency's `source` and its hub-stage `recordref`."""
NONCE_BYTES = 12
SEALED_PATTERN = r"^[A-Za-z0-9+/]{40,}={0,2}$"  # base64 of nonce || ciphertext || 16-byte tag
TABLE = "hub_record_keys"
KEYS_FILE = "record-keys.sqlite"  # in the data folder, on the embedded default
DDL_LOCK = 0x68756274  # the advisory lock taken while the PostgreSQL table is made


class SealError(HubError):
    """A sealed payload that does not open: the message names the event, never a key."""


def seal(key: bytes, source: str, event_id: str, payload: dict[str, Any]) -> str:
    """`payload` as canonical JSON, encrypted under `key` and bound to the event: base64 of a
    fresh 96-bit nonce and the ciphertext."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    plain = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    sealed = AESGCM(key).encrypt(nonce, plain, _bound(source, event_id))
    return base64.b64encode(nonce + sealed).decode("ascii")


def unseal(key: bytes, source: str, event_id: str, sealed: str) -> dict[str, Any]:
    """The payload `seal` sealed; SealError if it was altered, moved to another event, or
    sealed under another key."""
    try:
        raw = base64.b64decode(sealed, validate=True)
        plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _bound(source, event_id))
    except (InvalidTag, binascii.Error, ValueError):
        raise SealError(
            f"the sealed payload of {source} event {event_id} does not open with its record's "
            "key: it was altered, or sealed for another event or record"
        ) from None
    payload: dict[str, Any] = orjson.loads(plain)
    return payload


def _bound(source: str, event_id: str) -> bytes:
    """The associated data: the event the payload belongs to."""
    return orjson.dumps([source, event_id])


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


@dataclass(frozen=True)
class ErasedRecord:
    """An erasure as the key store keeps it: which record, when, how many stored events."""

    source: str
    recordref: str
    events: int
    erased_at: datetime


class RecordKeys(ABC):
    """The port that keeps one key per record, and forgets it for good on erasure."""

    @abstractmethod
    def get_or_create(self, records: Collection[Record]) -> dict[Record, bytes]:
        """The key of each record, made where it has none yet (one write and one read for
        the lot; two processes making the same record's key get the same one). An erased
        record is left out: it stays erased."""

    @abstractmethod
    def get(self, records: Collection[Record]) -> dict[Record, bytes]:
        """The keys of those `records` that have one (unknown and erased ones left out)."""

    @abstractmethod
    def lookup(self, records: Collection[Record]) -> dict[Record, datetime | None]:
        """Each known record with its erasure time (None while its key exists)."""

    @abstractmethod
    def erase(self, record: Record, at: datetime, events: int) -> bool:
        """Delete the record's key and keep the erasure (no payload) in its place; False if
        it had no key (unknown, or erased already). Call `scrub` after."""

    @abstractmethod
    def scrub(self) -> None:
        """Rewrite the store so no deleted key's bytes remain in it (free pages, logs)."""

    @abstractmethod
    def erasures(self) -> list[ErasedRecord]:
        """Every erasure made, oldest first."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""


SQLITE_DDL = f"""
create table if not exists {TABLE} (
    source text not null,
    recordref text not null,
    key blob,
    created_at text not null,
    erased_at text,
    events integer,
    primary key (source, recordref)
) without rowid
"""
# json_each first (CROSS JOIN keeps that order): one lookup by primary key per record asked.
SQLITE_SELECT = (
    f"select k.source, k.recordref, k.{{column}} from json_each(?) as asked cross join {TABLE} "
    "as k on k.source = asked.value ->> 0 and k.recordref = asked.value ->> 1"
)


class EmbeddedRecordKeys(RecordKeys):
    """The embedded key store: one SQLite file (`record-keys.sqlite` in the data folder), with
    secure_delete on so a deleted key's bytes are overwritten, not just unlinked."""

    def __init__(self, path: Path, busy_timeout_s: float = 30.0) -> None:
        self.path = path
        # Usable from any thread (the API); calls are serialised by the lock.
        self._db = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_s
        )
        self._lock = threading.Lock()
        self._db.execute("pragma secure_delete = on")
        self._db.execute("pragma journal_mode = wal")
        # A key must be as durable as the log entries sealed under it: synced before them.
        self._db.execute("pragma synchronous = full")
        self._db.execute(SQLITE_DDL)

    def get_or_create(self, records: Collection[Record]) -> dict[Record, bytes]:
        asked = list(dict.fromkeys(records))
        if not asked:
            return {}
        now = _text(datetime.now(UTC))
        with self._lock:
            self._db.execute("begin immediate")
            try:
                self._db.executemany(
                    f"insert or ignore into {TABLE} (source, recordref, key, created_at) "
                    "values (?, ?, ?, ?)",
                    [(source, ref, new_key(), now) for source, ref in asked],
                )
                self._db.execute("commit")
            except BaseException:
                self._db.execute("rollback")
                raise
            return self._keys(asked)

    def get(self, records: Collection[Record]) -> dict[Record, bytes]:
        asked = list(dict.fromkeys(records))
        with self._lock:
            return self._keys(asked) if asked else {}

    def _keys(self, asked: list[Record]) -> dict[Record, bytes]:
        rows = self._db.execute(SQLITE_SELECT.format(column="key"), [_json(asked)])
        return {(source, ref): key for source, ref, key in rows if key is not None}

    def lookup(self, records: Collection[Record]) -> dict[Record, datetime | None]:
        asked = _json(list(dict.fromkeys(records)))
        with self._lock:
            rows = self._db.execute(SQLITE_SELECT.format(column="erased_at"), [asked]).fetchall()
        return {(s, r): None if at is None else datetime.fromisoformat(at) for s, r, at in rows}

    def erase(self, record: Record, at: datetime, events: int) -> bool:
        with self._lock:
            done = self._db.execute(
                f"update {TABLE} set key = null, erased_at = ?, events = ? "
                "where source = ? and recordref = ? and key is not null",
                [_text(at), events, *record],
            )
            return done.rowcount == 1

    def scrub(self) -> None:
        # secure_delete zeroed the key in its page; the old page may still sit in the WAL
        # (moved into the file and the WAL emptied) and VACUUM rebuilds every page afresh.
        with self._lock:
            self._checkpoint()
            self._db.execute("vacuum")
            self._checkpoint()

    def _checkpoint(self, patience_s: float = 30.0) -> None:
        deadline = time.monotonic() + patience_s
        while True:
            busy, _, _ = self._db.execute("pragma wal_checkpoint(truncate)").fetchone()
            if not busy:
                return
            if time.monotonic() > deadline:
                raise HubError(
                    f"the key is deleted, but another process holds {self.path} open, so its "
                    "write-ahead log may still hold the old page: stop the other hub processes "
                    "and run `hub erase` for the record again to finish"
                )
            time.sleep(0.1)

    def erasures(self) -> list[ErasedRecord]:
        with self._lock:
            rows = self._db.execute(
                f"select source, recordref, events, erased_at from {TABLE} "
                "where erased_at is not null order by erased_at, source, recordref"
            ).fetchall()
        return [ErasedRecord(s, r, int(n or 0), datetime.fromisoformat(at)) for s, r, n, at in rows]

    def close(self) -> None:
        self._db.close()


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
        self._table = sql.Identifier(schema or "public", TABLE)
        ddl = sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (source text NOT NULL, recordref text NOT NULL, "
            "key bytea, created_at timestamptz NOT NULL, erased_at timestamptz, events bigint, "
            "PRIMARY KEY (source, recordref))"
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

    def get_or_create(self, records: Collection[Record]) -> dict[Record, bytes]:
        asked = list(dict.fromkeys(records))
        if not asked:
            return {}
        sources, refs = [s for s, _ in asked], [r for _, r in asked]
        with self._connected() as con:
            con.execute(
                self._sql(
                    "INSERT INTO {table} (source, recordref, key, created_at) "
                    "SELECT s, r, k, now() FROM unnest(%s::text[], %s::text[], %s::bytea[]) "
                    "AS asked(s, r, k) ON CONFLICT (source, recordref) DO NOTHING"
                ),
                [sources, refs, [new_key() for _ in asked]],
            )
            return self._select(con, "key", sources, refs)

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
            source, ref, value = row.values() if isinstance(row, dict) else row
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
                    "UPDATE {table} SET key = NULL, erased_at = %s, events = %s "
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
        return [
            ErasedRecord(s, r, int(n or 0), at)
            for s, r, n, at in (row.values() if isinstance(row, dict) else row for row in rows)
        ]

    def close(self) -> None:
        """The connection belongs to whoever gave it."""


def keys_beside(recorder: object) -> RecordKeys:
    """The key store that goes with an event store (as `open_hub` opens it): the file
    `record-keys.sqlite` beside a SQLite store's file, or a PostgreSQL store's own schema
    (through the store's own connections)."""
    from eventsourcing.postgres import PostgresApplicationRecorder
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    if isinstance(recorder, SQLiteApplicationRecorder):
        name = recorder.datastore.pool.db_name
        if not name.startswith(("file:", ":memory:")):
            return EmbeddedRecordKeys(Path(name).parent / KEYS_FILE)
    if isinstance(recorder, PostgresApplicationRecorder):
        datastore = recorder.datastore
        return PostgresRecordKeys(datastore.get_connection, datastore.schema)
    raise HubError("an in-memory event store has no record keys beside it: pass the key store")


def _json(records: list[Record]) -> str:
    return orjson.dumps(records).decode()


def _text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")
