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
"""

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from hub.log.port import DEFAULT_PARTITIONS, EventLog, LogEntry, LogError, LogRecord, check_record

FORMAT = 1
"""The version of the table layout below, kept in the file beside the partition count."""

BUSY_TIMEOUT_SECONDS = 30.0
"""How long an append waits for another writer's transaction before giving up."""

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
        PRIMARY KEY ("partition", "offset")
    ) STRICT""",
    # The partition count decides where every key lives, so it can never change.
    """CREATE TRIGGER log_settings_are_fixed BEFORE UPDATE ON log_settings
    BEGIN SELECT RAISE(ABORT, 'the event log''s partition count cannot change'); END""",
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

INSERT = 'INSERT INTO log_entries ("partition", "offset", key, value) VALUES (?, ?, ?, ?)'
READ = """SELECT "offset", key, value FROM log_entries
WHERE "partition" = ? AND "offset" >= ? ORDER BY "offset" LIMIT ?"""


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
            stored = self._stored_partitions(db)
            if stored is None:
                stored = self._create(db)
        except sqlite3.Error as error:
            raise LogError(f"cannot open the event log at {self.path}: {error}") from error
        if mode != "wal":
            raise LogError(
                f"the event log at {self.path} cannot use write-ahead logging (journal mode "
                f"{mode!r}): put it on a local disk"
            )
        if stored != self.partitions:
            raise LogError(
                f"the event log at {self.path} has {stored} partitions, not {self.partitions}: "
                f"open it with partitions={stored} (a key's partition depends on the count, "
                "so it cannot change)"
            )

    def _stored_partitions(self, db: sqlite3.Connection) -> int | None:
        if not db.execute("SELECT 1 FROM sqlite_schema WHERE name = 'log_settings'").fetchone():
            return None
        row = db.execute("SELECT partitions, format FROM log_settings").fetchone()
        if row is None or row[1] != FORMAT:
            found = "no format" if row is None else f"format {row[1]}"
            raise LogError(
                f"the event log at {self.path} has {found}; this hub reads format {FORMAT}"
            )
        return int(row[0])

    def _create(self, db: sqlite3.Connection) -> int:
        db.execute("BEGIN IMMEDIATE")
        try:
            stored = self._stored_partitions(db)  # another process may have just created it
            if stored is None:
                for statement in SCHEMA:
                    db.execute(statement)
                db.execute("INSERT INTO log_settings VALUES (?, ?)", (self.partitions, FORMAT))
                stored = self.partitions
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return stored

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
    ) -> Iterator[tuple[int, int, str, bytes]]:
        # A generator, so a refused record raises mid-transaction and the batch rolls back.
        partition_of = self.partition_of
        for index, record in enumerate(records):
            check_record(index, record)
            partition = partition_of(record.key)
            offset = next_offsets[partition]
            next_offsets[partition] = offset + 1
            yield partition, offset, record.key, record.value

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
        return [LogEntry(partition, offset, key, value) for offset, key, value in rows]

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
