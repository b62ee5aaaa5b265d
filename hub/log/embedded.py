"""The embedded event log: one append-only SQLite table, for the first run and small places.

    with EmbeddedLog(data_dir / "log.sqlite") as log:
        log.append(records)                       # one transaction, all or nothing
        entries = log.read(partition=3, start=120, limit=500)

Durability: WAL with `synchronous=FULL`, so the WAL is synced on every commit and an append
that has returned survives a power cut, not only a crash of the process (`NORMAL` may lose the
last commits on power loss). Ingest answers "accepted" once `append` returns, so nothing
accepted may be lost; the cost is one sync per batch, not per record.

Concurrency: any number of processes may open the file; each instance has its own connection.
WAL lets readers go on while one writer appends. Appends take the write lock (`BEGIN
IMMEDIATE`) and assign offsets from the table inside that transaction, so even two writers
cannot collide or leave a gap. One instance may be shared by threads (it holds a lock).

Append-only: triggers refuse any UPDATE or DELETE of an entry, and any INSERT but the next
offset of its partition (which also refuses `INSERT OR REPLACE`, whose hidden delete would
skip the delete trigger). Erasing a record's payload will be one explicit, documented method
(a later issue), the only way an entry's value changes. The triggers guard against mistakes;
an auditor's guarantee against tampering comes from the audit ledger, not from them.

Headers: a record's headers are kept in the nullable BLOB column `headers`, as a JSON array of
[name, value] pairs in order, each value's bytes as the Latin-1 text of the same code points
(lossless for any bytes, and ASCII headers stay readable in the file); NULL for none.

Formats: 2 added the `headers` column. A format 1 file (no column) is upgraded on open, in one
write transaction: `ALTER TABLE ... ADD COLUMN` (the triggers guard rows, not the layout; its
entries read back with no headers), and the format in `log_settings` set to 2. That table's
trigger refuses every update (the partition count must never change), so the upgrade drops it,
sets the format, and creates it again before it commits: no other connection ever sees the
table unguarded, and the partition count is not touched. A hub that reads only format 1 refuses
the upgraded file rather than drop its headers.
"""

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import orjson

from hub.log.port import (
    DEFAULT_PARTITIONS,
    EventLog,
    Headers,
    LogEntry,
    LogError,
    LogRecord,
    check_record,
    headers_as_text,
    headers_from_text,
)

FORMAT = 2
"""The version of the table layout below, kept in the file beside the partition count."""
UPGRADABLE = {1}
"""Earlier formats this hub upgrades on open (see the module docstring)."""

BUSY_TIMEOUT_SECONDS = 30.0
"""How long an append waits for another writer's transaction before giving up."""

SETTINGS_ARE_FIXED = """CREATE TRIGGER log_settings_are_fixed BEFORE UPDATE ON log_settings
    BEGIN SELECT RAISE(ABORT, 'the event log''s partition count cannot change'); END"""

SCHEMA = (
    """CREATE TABLE log_settings (
        partitions INTEGER NOT NULL CHECK (partitions > 0),
        format INTEGER NOT NULL
    ) STRICT""",
    """CREATE TABLE log_entries (
        "partition" INTEGER NOT NULL CHECK ("partition" >= 0),
        "offset" INTEGER NOT NULL,
        key TEXT NOT NULL,
        value BLOB NOT NULL,
        headers BLOB,
        PRIMARY KEY ("partition", "offset")
    ) STRICT""",
    # The partition count decides where every key lives, so it can never change.
    SETTINGS_ARE_FIXED,
    """CREATE TRIGGER log_settings_are_kept BEFORE DELETE ON log_settings
    BEGIN SELECT RAISE(ABORT, 'the event log''s partition count cannot change'); END""",
    """CREATE TRIGGER log_entries_are_not_updated BEFORE UPDATE ON log_entries
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only: an entry cannot be updated'); END""",
    """CREATE TRIGGER log_entries_are_not_deleted BEFORE DELETE ON log_entries
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only: an entry cannot be deleted'); END""",
    # Only the next offset of a partition may be inserted: no gaps, and no INSERT OR REPLACE
    # (its hidden delete would not fire the delete trigger).
    """CREATE TRIGGER log_offsets_are_dense BEFORE INSERT ON log_entries
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only: insert the next offset only')
    WHERE NEW."offset" IS NOT (
        SELECT coalesce(max("offset") + 1, 0) FROM log_entries WHERE "partition" = NEW."partition"
    ); END""",
)

UPGRADE_FROM_1 = (
    "ALTER TABLE log_entries ADD COLUMN headers BLOB",
    # Within the upgrade's transaction: the trigger is back before anyone else can write.
    "DROP TRIGGER log_settings_are_fixed",
    f"UPDATE log_settings SET format = {FORMAT}",
    SETTINGS_ARE_FIXED,
)

INSERT = """INSERT INTO log_entries ("partition", "offset", key, value, headers)
VALUES (?, ?, ?, ?, ?)"""
READ = """SELECT "offset", key, value, headers FROM log_entries
WHERE "partition" = ? AND "offset" >= ? ORDER BY "offset" LIMIT ?"""


def encode_headers(headers: Headers) -> bytes | None:
    """The `headers` column of a record: [[name, Latin-1 text of the value], ...], or NULL."""
    if not headers:
        return None
    return orjson.dumps(headers_as_text(headers))


def decode_headers(column: bytes | None) -> Headers:
    """The headers a `headers` column holds (`encode_headers` undone)."""
    if column is None:
        return ()
    return headers_from_text(orjson.loads(column))


def _last_offsets_query(partitions: int) -> str:
    # One index seek per partition, all in one statement (one snapshot); a GROUP BY would scan.
    return " UNION ALL ".join(
        f'SELECT {p}, (SELECT max("offset") FROM log_entries WHERE "partition" = {p})'
        for p in range(partitions)
    )


class EmbeddedLog(EventLog):
    """The event log in one SQLite file (created on first open)."""

    def __init__(self, path: Path, partitions: int = DEFAULT_PARTITIONS) -> None:
        if type(partitions) is not int or partitions < 1:
            raise LogError(f"an event log needs at least one partition, not {partitions!r}")
        self.path = Path(path)
        self.partitions = partitions
        self._lock = threading.Lock()
        self._last_offsets = _last_offsets_query(partitions)
        try:
            self._db: sqlite3.Connection | None = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_SECONDS,
                isolation_level=None,  # transactions are begun and ended explicitly below
                check_same_thread=False,  # guarded by self._lock instead
            )
        except sqlite3.Error as error:
            raise LogError(f"cannot open the event log at {self.path}: {error}") from error
        try:
            self._open(self._db)
        except BaseException:
            self.close()
            raise

    def _open(self, db: sqlite3.Connection) -> None:
        try:
            (mode,) = db.execute("PRAGMA journal_mode = WAL").fetchone()
            db.execute("PRAGMA synchronous = FULL")
            settings = self._settings(db)
            if settings is None or settings[1] != FORMAT:
                settings = self._prepare(db)
        except sqlite3.Error as error:
            raise LogError(f"cannot open the event log at {self.path}: {error}") from error
        if mode != "wal":
            raise LogError(
                f"the event log at {self.path} cannot use write-ahead logging (journal mode "
                f"{mode!r}): put it on a local disk"
            )
        stored = settings[0]
        if stored != self.partitions:
            raise LogError(
                f"the event log at {self.path} has {stored} partitions, not {self.partitions}: "
                f"open it with partitions={stored} (a key's partition depends on the count, "
                "so it cannot change)"
            )

    def _settings(self, db: sqlite3.Connection) -> tuple[int, int] | None:
        """(partitions, format) of the file, or None for a new one."""
        if not db.execute("SELECT 1 FROM sqlite_schema WHERE name = 'log_settings'").fetchone():
            return None
        row = db.execute("SELECT partitions, format FROM log_settings").fetchone()
        if row is None or (row[1] != FORMAT and row[1] not in UPGRADABLE):
            found = "no format" if row is None else f"format {row[1]}"
            raise LogError(
                f"the event log at {self.path} has {found}; this hub reads format {FORMAT} "
                f"(and upgrades format {', '.join(map(str, sorted(UPGRADABLE)))})"
            )
        return int(row[0]), int(row[1])

    def _prepare(self, db: sqlite3.Connection) -> tuple[int, int]:
        """Create the tables, or upgrade an earlier format, in one write transaction."""
        db.execute("BEGIN IMMEDIATE")
        try:
            settings = self._settings(db)  # another process may have just done it
            if settings is None:
                for statement in SCHEMA:
                    db.execute(statement)
                db.execute("INSERT INTO log_settings VALUES (?, ?)", (self.partitions, FORMAT))
            elif settings[1] == 1:
                for statement in UPGRADE_FROM_1:
                    db.execute(statement)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return (self.partitions if settings is None else settings[0]), FORMAT

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise LogError(f"the event log at {self.path} is closed: open a new EmbeddedLog")
        return self._db

    def append(self, records: Sequence[LogRecord]) -> None:
        if not records:
            return
        with self._lock:
            db = self._connection()
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    next_offsets = self._next_offsets(db)
                    db.executemany(INSERT, self._rows(records, next_offsets))
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as error:
                raise LogError(
                    f"could not append {len(records)} records to the event log at {self.path}: "
                    f"{error}; nothing of this batch was appended"
                ) from error

    def _rows(
        self, records: Sequence[LogRecord], next_offsets: list[int]
    ) -> Iterator[tuple[int, int, str, bytes, bytes | None]]:
        # A generator, so a refused record raises mid-transaction and the batch rolls back.
        partition_of = self.partition_of
        for index, record in enumerate(records):
            check_record(index, record)
            partition = partition_of(record.key)
            offset = next_offsets[partition]
            next_offsets[partition] = offset + 1
            try:
                headers = encode_headers(record.headers)
            except TypeError:  # a name orjson cannot encode (a lone surrogate): not UTF-8
                raise LogError(
                    f"record {index} of the batch has a header name that is not UTF-8 text; "
                    "nothing of this batch was appended"
                ) from None
            yield partition, offset, record.key, record.value, headers

    def _next_offsets(self, db: sqlite3.Connection) -> list[int]:
        ends = [0] * self.partitions
        for partition, last in db.execute(self._last_offsets):
            if last is not None:
                ends[partition] = last + 1
        return ends

    def read(self, partition: int, start: int, limit: int) -> list[LogEntry]:
        self.check_read(partition, start, limit)
        with self._lock:
            try:
                rows = self._connection().execute(READ, (partition, start, limit)).fetchall()
            except sqlite3.Error as error:
                raise LogError(
                    f"could not read partition {partition} of the event log at {self.path} "
                    f"from offset {start}: {error}"
                ) from error
        return [
            LogEntry(partition, offset, key, value, decode_headers(headers))
            for offset, key, value, headers in rows
        ]

    def end_offsets(self) -> dict[int, int]:
        with self._lock:
            try:
                ends = self._next_offsets(self._connection())
            except sqlite3.Error as error:
                raise LogError(f"could not read the event log at {self.path}: {error}") from error
        return dict(enumerate(ends))

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __repr__(self) -> str:
        return f"EmbeddedLog({str(self.path)!r}, partitions={self.partitions})"
