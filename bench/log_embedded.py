"""Benchmark: records per second appended to the embedded event log, against raw
`sqlite3.executemany` of the same rows into a bare table, measured in the same run.

    python bench/log_embedded.py                          # 1,000,000 records, 3 repeats
    python bench/log_embedded.py --rows 200000 --repeat 1 # a quick look

Each record is a ~600-byte CloudEvent under a 64-hex pseudonym (four events a person). Every
write uses the log's own settings (WAL, synchronous=FULL) and batches of 10,000 records, one
transaction each, so the ratio is what the log adds: choosing partitions and offsets, checking
records, the primary key and the append-only triggers. A middle line inserts the same
prepared rows into the log's own table with raw `executemany`, to show how much of that is
SQLite (key and triggers) and how much is Python. Prints the medians and the ratios.
"""

import argparse
import hashlib
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hub.log import EmbeddedLog, LogRecord, partition_for

PARTITIONS = 6
Row = tuple[int, int, str, bytes]
T = TypeVar("T")


def make_records(count: int) -> list[LogRecord]:
    """`count` records of about 600 bytes, four a person, people interleaved as in ingest."""
    people = [hashlib.sha256(str(n).encode()).hexdigest() for n in range(max(1, count // 4))]
    records = []
    for n in range(count):
        person = people[n % len(people)]
        value = (
            f'{{"specversion":"1.0","id":"{n:064x}-v1","source":"agency/police-north",'
            f'"type":"hub.referral.made.v1","subject":"{person}",'
            f'"time":"2024-05-01T09:30:00+01:00","datacontenttype":"application/json",'
            f'"recordref":"{n:064x}","recordversion":1,"keyversion":1,'
            f'"data":{{"need":"domestic-abuse","locality":"north-ward-{n % 40}","service":"idva",'
            f'"urgency":"high","to":"council-social-care","channel":"phone"}}}}'
        )
        records.append(LogRecord(person, value.encode().ljust(600)))
    return records


def prepared_rows(records: list[LogRecord]) -> list[Row]:
    """The rows the log would write: (partition, offset, key, value), offsets dense."""
    next_offsets = [0] * PARTITIONS
    rows = []
    for record in records:
        partition = partition_for(record.key, PARTITIONS)
        rows.append((partition, next_offsets[partition], record.key, record.value))
        next_offsets[partition] += 1
    return rows


def fresh(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def raw_insert(path: Path, rows: list[Row], batch: int, table: str) -> None:
    """Raw `executemany` in batches, each one transaction, with the log's pragmas."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    if table == "bare":
        db.execute(
            'CREATE TABLE bare ("partition" INTEGER, "offset" INTEGER, key TEXT, value BLOB)'
        )
    insert = f'INSERT INTO {table} ("partition", "offset", key, value) VALUES (?, ?, ?, ?)'
    for start in range(0, len(rows), batch):
        db.execute("BEGIN IMMEDIATE")
        db.executemany(insert, rows[start : start + batch])
        db.execute("COMMIT")
    db.close()


def raw_bare(path: Path, rows: list[Row], batch: int) -> None:
    raw_insert(path, rows, batch, "bare")


def raw_log_table(path: Path, rows: list[Row], batch: int) -> None:
    EmbeddedLog(path, PARTITIONS).close()  # creates the table, its key and its triggers
    raw_insert(path, rows, batch, "log_entries")


def hub_log(path: Path, records: list[LogRecord], batch: int) -> None:
    with EmbeddedLog(path, PARTITIONS) as log:
        for start in range(0, len(records), batch):
            log.append(records[start : start + batch])
        assert sum(log.end_offsets().values()) == len(records)


def timed(
    run: Callable[[Path, list[T], int], None], path: Path, data: list[T], batch: int
) -> float:
    fresh(path)
    start = time.perf_counter()
    run(path, data, batch)
    return len(data) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="records (default 1,000,000)")
    parser.add_argument("--batch", type=int, default=10_000, help="records an append (10,000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each (default 3)")
    parser.add_argument(
        "--workdir", type=Path, default=ROOT / "bench-data", help="where the files go"
    )
    args = parser.parse_args()

    args.workdir.mkdir(parents=True, exist_ok=True)
    path = args.workdir / "log-bench.sqlite"
    records = make_records(args.rows)
    rows = prepared_rows(records)
    size = sum(len(r.value) for r in records) / len(records)
    print(f"{len(records):,} records of {size:.0f} bytes, batches of {args.batch:,}", flush=True)
    bare, table, log = [], [], []
    for round_ in range(1, args.repeat + 1):
        bare.append(timed(raw_bare, path, rows, args.batch))
        table.append(timed(raw_log_table, path, rows, args.batch))
        log.append(timed(hub_log, path, records, args.batch))
        print(
            f"  run {round_}: raw bare {bare[-1]:,.0f}/s, raw log table {table[-1]:,.0f}/s, "
            f"EmbeddedLog {log[-1]:,.0f}/s",
            flush=True,
        )
    fresh(path)
    raw_rate, table_rate, log_rate = map(statistics.median, (bare, table, log))
    print(f"embedded log append, WAL + synchronous=FULL, median of {args.repeat}")
    print(f"  raw executemany, bare table          : {raw_rate:12,.0f} rows/s")
    print(f"  raw executemany, log table (key+trig): {table_rate:12,.0f} rows/s")
    print(f"  EmbeddedLog.append                   : {log_rate:12,.0f} rows/s")
    print(f"  ratio EmbeddedLog/raw bare           : {log_rate / raw_rate:12.2f}")
    print(f"  ratio EmbeddedLog/raw log table      : {log_rate / table_rate:12.2f}")


if __name__ == "__main__":
    main()
