"""The embedded (SQLite) event log: the contract, and what only a file on disk can show."""

import json
import os
import sqlite3
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from hub.log import EmbeddedLog, EventLog, LogError, LogRecord, partition_for
from tests.unit.log_contract import EventLogContract, person, read_all, records

ROOT = Path(__file__).resolve().parents[2]


class TestEmbeddedLogContract(EventLogContract):
    def make_log(self, tmp_path: Path) -> EventLog:
        return EmbeddedLog(tmp_path / "log.sqlite")


def run_python(code: str, *args: str, hash_seed: str = "random") -> str:
    """Run `code` in a fresh interpreter with the project importable; its standard output."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "log.sqlite"


@pytest.fixture
def filled(path: Path) -> Path:
    with EmbeddedLog(path) as log:
        log.append(records(12, people=3))
    return path


@pytest.mark.parametrize(
    "statement",
    ["UPDATE log_entries SET value = x'00'", 'UPDATE log_entries SET "offset" = "offset" + 1'],
)
def test_the_table_refuses_to_update_an_entry(filled: Path, statement: str) -> None:
    db = sqlite3.connect(filled)
    with pytest.raises(sqlite3.IntegrityError, match="append-only: an entry cannot be updated"):
        db.execute(statement)
    db.close()


def test_the_table_refuses_to_delete_an_entry(filled: Path) -> None:
    db = sqlite3.connect(filled)
    with pytest.raises(sqlite3.IntegrityError, match="append-only: an entry cannot be deleted"):
        db.execute('DELETE FROM log_entries WHERE "offset" = 0')
    db.close()


def test_the_table_refuses_an_insert_that_would_replace_an_entry(filled: Path) -> None:
    db = sqlite3.connect(filled)
    with pytest.raises(sqlite3.IntegrityError, match="insert the next offset only"):
        db.execute("INSERT OR REPLACE INTO log_entries SELECT * FROM log_entries LIMIT 1")
    db.close()


def test_the_table_refuses_an_insert_that_would_leave_a_gap(filled: Path) -> None:
    with EmbeddedLog(filled) as log:
        partition, end = next((p, end) for p, end in log.end_offsets().items() if end)
    db = sqlite3.connect(filled)
    with pytest.raises(sqlite3.IntegrityError, match="insert the next offset only"):
        db.execute(
            'INSERT INTO log_entries ("partition", "offset", key, value) VALUES (?, ?, ?, ?)',
            (partition, end + 1, person(0), b"{}"),
        )
    db.close()


def test_the_partition_count_cannot_be_changed(filled: Path) -> None:
    db = sqlite3.connect(filled)
    with pytest.raises(sqlite3.IntegrityError, match="partition count cannot change"):
        db.execute("UPDATE log_settings SET partitions = 3")
    with pytest.raises(sqlite3.IntegrityError, match="partition count cannot change"):
        db.execute("DELETE FROM log_settings")
    db.close()


def test_reopening_with_another_partition_count_is_refused_with_the_fix(filled: Path) -> None:
    with pytest.raises(LogError, match="has 6 partitions, not 3: open it with partitions=6"):
        EmbeddedLog(filled, partitions=3)
    with EmbeddedLog(filled, partitions=6) as log:
        assert sum(log.end_offsets().values()) == 12


def test_a_log_needs_at_least_one_partition(path: Path) -> None:
    with pytest.raises(LogError, match="at least one partition"):
        EmbeddedLog(path, partitions=0)


def test_the_file_is_in_write_ahead_log_mode(filled: Path) -> None:
    db = sqlite3.connect(filled)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()


def test_a_closed_log_says_so(path: Path) -> None:
    log = EmbeddedLog(path)
    log.close()
    with pytest.raises(LogError, match="is closed: open a new EmbeddedLog"):
        log.read(0, 0, 1)
    with pytest.raises(LogError, match="is closed"):
        log.append(records(1))


def test_a_batch_of_ten_thousand_records_is_appended_whole_or_not_at_all(path: Path) -> None:
    with EmbeddedLog(path) as log:
        batch = records(10_000, people=2_500)
        started = time.perf_counter()
        log.append(batch)
        seconds = time.perf_counter() - started
        assert sum(log.end_offsets().values()) == 10_000
        # One commit (one sync) for the batch; a commit per record would take many seconds.
        assert seconds < 3, f"appending 10,000 records took {seconds:.1f} s"
        with pytest.raises(LogError, match="record 9999 of the batch"):
            log.append([*batch[:-1], LogRecord(person(1), "late failure")])  # type: ignore[arg-type]
        assert sum(log.end_offsets().values()) == 10_000


READER = """
import json, sys
from pathlib import Path
from hub.log import EmbeddedLog
with EmbeddedLog(Path(sys.argv[1])) as log:
    entries = [e for p in range(log.partitions) for e in log.read(p, 0, 1000)]
    print(json.dumps([[e.partition, e.offset, e.key, e.value.decode()] for e in entries]))
"""


def test_a_second_process_reads_what_the_first_appended(path: Path) -> None:
    with EmbeddedLog(path) as log:  # the writer stays open while the other process reads
        log.append(records(50, people=6))
        expected = [[e.partition, e.offset, e.key, e.value.decode()] for e in read_all(log)]
        assert json.loads(run_python(READER, str(path))) == expected


WRITER = """
import sys
from pathlib import Path
from hub.log import EmbeddedLog
from tests.unit.log_contract import records
with EmbeddedLog(Path(sys.argv[1])) as log:
    log.append(records(30, people=4, first=int(sys.argv[2])))
"""


def test_a_reader_sees_what_another_process_appends_without_reopening(path: Path) -> None:
    with EmbeddedLog(path) as reader:
        reader.append(records(10, people=4))
        before = read_all(reader)
        run_python(WRITER, str(path), "10")
        after = read_all(reader)
        assert len(after) == 40
        assert set(before) <= set(after)
        assert {e.value for e in after} == {r.value for r in records(40, people=4)}
        assert sum(reader.end_offsets().values()) == 40


PARTITIONS = """
import json, sys
from hub.log import partition_for
print(json.dumps([partition_for(key, 6) for key in sys.argv[1].split(",")]))
"""


def test_the_partition_of_a_key_is_the_same_in_every_process() -> None:
    keys = [person(n) for n in range(200)] + ["a", "\u00e9t\u00e9"]
    here = [partition_for(key, 6) for key in keys]
    assert len(set(here)) == 6
    for seed in ("1", "2"):  # str hashes differ between these two interpreters and this one
        assert json.loads(run_python(PARTITIONS, ",".join(keys), hash_seed=seed)) == here


def test_the_partition_function_is_pinned_to_the_crc32_of_the_key() -> None:
    # Changing the function would move people to other partitions of an existing log. CRC-32
    # of the key bytes is also librdkafka's default partitioner for keyed messages.
    assert [partition_for(person(n), 6) for n in range(8)] == [5, 1, 4, 0, 0, 1, 5, 1]
    assert zlib.crc32(b"0" * 64) == 884_073_675
    assert partition_for("0" * 64, 6) == 884_073_675 % 6 == 3
    assert partition_for("f" * 64, 1) == 0


FORMAT_1_SCHEMA = (  # the layout as format 1 made it, before the headers column
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
    """CREATE TRIGGER log_settings_are_fixed BEFORE UPDATE ON log_settings
    BEGIN SELECT RAISE(ABORT, 'the event log''s partition count cannot change'); END""",
    """CREATE TRIGGER log_settings_are_kept BEFORE DELETE ON log_settings
    BEGIN SELECT RAISE(ABORT, 'the event log''s partition count cannot change'); END""",
    """CREATE TRIGGER log_entries_are_not_updated BEFORE UPDATE ON log_entries
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only: an entry cannot be updated'); END""",
    """CREATE TRIGGER log_entries_are_not_deleted BEFORE DELETE ON log_entries
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only: an entry cannot be deleted'); END""",
    """CREATE TRIGGER log_offsets_are_dense BEFORE INSERT ON log_entries
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only: insert the next offset only')
    WHERE NEW."offset" IS NOT (
        SELECT coalesce(max("offset") + 1, 0) FROM log_entries WHERE "partition" = NEW."partition"
    ); END""",
)


def _format_1_file(path: Path, count: int) -> list[tuple[int, int, str, bytes]]:
    """A log file as a format 1 hub wrote it, holding `count` records; its rows."""
    rows, next_offsets = [], [0] * 6
    for record in records(count, people=5):
        partition = partition_for(record.key, 6)
        rows.append((partition, next_offsets[partition], record.key, record.value))
        next_offsets[partition] += 1
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    for statement in FORMAT_1_SCHEMA:
        db.execute(statement)
    db.execute("INSERT INTO log_settings VALUES (6, 1)")
    db.executemany("INSERT INTO log_entries VALUES (?, ?, ?, ?)", rows)
    db.close()
    return rows


def test_a_format_1_log_is_upgraded_and_its_entries_read_back_with_no_headers(path: Path) -> None:
    rows = _format_1_file(path, 20)
    with EmbeddedLog(path) as log:
        read = read_all(log)
        assert sorted((e.partition, e.offset, e.key, e.value) for e in read) == sorted(rows)
        assert {e.headers for e in read} == {()}
        log.append([LogRecord(person(1), b"{}", (("ce_id", b"1"), ("ce_id", b"2")))])
        [new] = [e for e in read_all(log) if e.headers]
        assert (new.key, new.offset) == (person(1), sum(1 for r in rows if r[2] == person(1)))
    db = sqlite3.connect(path)
    assert db.execute("SELECT partitions, format FROM log_settings").fetchone() == (6, 2)
    with pytest.raises(sqlite3.IntegrityError, match="partition count cannot change"):
        db.execute("UPDATE log_settings SET partitions = 3")  # the guard is back after the upgrade
    with pytest.raises(sqlite3.IntegrityError, match="partition count cannot change"):
        db.execute("UPDATE log_settings SET format = 1")
    db.close()
    with EmbeddedLog(path) as log:  # opened again: format 2 now, nothing upgraded twice
        assert sum(log.end_offsets().values()) == 21


def test_a_log_of_an_unknown_format_is_refused_saying_what_this_hub_reads(path: Path) -> None:
    _format_1_file(path, 1)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("DROP TRIGGER log_settings_are_fixed")
    db.execute("UPDATE log_settings SET format = 9")
    db.close()
    with pytest.raises(LogError, match="has format 9; this hub reads format 2"):
        EmbeddedLog(path)
