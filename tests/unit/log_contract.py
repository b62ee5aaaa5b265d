"""The contract every event-log adapter keeps (ARCHITECTURE.md: one suite runs on both).

An adapter's test module subclasses `EventLogContract` as `Test...` and supplies `make_log`:

    class TestEmbeddedLogContract(EventLogContract):
        def make_log(self, tmp_path: Path) -> EventLog:
            return EmbeddedLog(tmp_path / "log.sqlite")
"""

import hashlib
import tempfile
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.log import EventLog, LogEntry, LogError, LogRecord, partition_for


def person(n: int) -> str:
    """A stand-in pseudonym: 64 lower-case hex characters."""
    return hashlib.sha256(f"person {n}".encode()).hexdigest()


def records(count: int, people: int = 7, first: int = 0) -> list[LogRecord]:
    """`count` records over `people` keys, each value naming its key and sequence number."""
    return [
        LogRecord(person(n % people), b'{"event":%d,"person":%d}' % (n, n % people))
        for n in range(first, first + count)
    ]


def read_all(log: EventLog, batch: int = 1000) -> list[LogEntry]:
    """Every entry of every partition, partition by partition, in offset order."""
    entries: list[LogEntry] = []
    for partition in range(log.partitions):
        start = 0
        while chunk := log.read(partition, start, batch):
            entries.extend(chunk)
            start = chunk[-1].offset + 1
    return entries


def values_by_key(entries: list[LogEntry]) -> dict[str, list[bytes]]:
    found: dict[str, list[bytes]] = defaultdict(list)
    for entry in entries:
        found[entry.key].append(entry.value)
    return dict(found)


class EventLogContract(ABC):
    """Tests any `EventLog` must pass; `make_log` gives a log over storage kept in `tmp_path`."""

    @abstractmethod
    def make_log(self, tmp_path: Path) -> EventLog:
        """A log over `tmp_path`'s storage: empty for a new folder, the same log again after."""

    @pytest.fixture
    def log(self, tmp_path: Path) -> Iterator[EventLog]:
        with self.make_log(tmp_path) as log:
            yield log

    def test_every_appended_record_is_read_back_exactly_once(self, log: EventLog) -> None:
        appended = records(300, people=40)
        log.append(appended[:120])
        log.append(appended[120:])
        read = read_all(log)
        assert sorted((e.key, e.value) for e in read) == sorted((r.key, r.value) for r in appended)

    def test_records_of_one_key_are_read_back_in_the_order_appended(self, log: EventLog) -> None:
        appended = records(200, people=9)
        for start in range(0, 200, 30):
            log.append(appended[start : start + 30])
        assert values_by_key(read_all(log)) == values_by_key(
            [LogEntry(0, 0, r.key, r.value) for r in appended]
        )

    def test_values_come_back_byte_for_byte(self, log: EventLog) -> None:
        odd = [b"", b"\x00\xff\xfe binary", "caf\u00e9 \u2713".encode(), b"x" * 100_000]
        log.append([LogRecord(person(1), value) for value in odd])
        assert [e.value for e in read_all(log)] == odd

    def test_headers_come_back_in_order_byte_for_byte(self, log: EventLog) -> None:
        headers = (
            ("ce_specversion", b"1.0"),
            ("ce_id", b"first"),
            ("content-type", b"application/json"),
            ("ce_id", b"second"),  # a repeated name: both kept, in order
            ("empty", b""),
            ("bytes", b"\x00\xff\xfe \x80"),
            ("caf\u00e9", "Zo\u00eb \u2713".encode()),
        )
        log.append(
            [
                LogRecord(person(1), b"{}", headers),
                LogRecord(person(1), b"{}"),
                LogRecord(person(1), b"{}", (("one", b"1"),)),
            ]
        )
        assert [e.headers for e in read_all(log)] == [headers, (), (("one", b"1"),)]

    def test_a_refused_header_is_described_without_its_content(self, log: EventLog) -> None:
        with pytest.raises(LogError, match="record 1 of the batch has headers") as refused:
            log.append(
                [
                    LogRecord(person(1), b"{}"),
                    LogRecord(person(1), b"{}", (("ce_id", "NHS 943 476 5919"),)),  # type: ignore[arg-type]
                ]
            )
        assert "943" not in str(refused.value)

    def test_offsets_are_dense_from_zero_in_every_partition(self, log: EventLog) -> None:
        log.append(records(150, people=30))
        log.append(records(50, people=30, first=150))
        by_partition: dict[int, list[int]] = defaultdict(list)
        for entry in read_all(log, batch=7):
            by_partition[entry.partition].append(entry.offset)
        assert len(by_partition) > 1
        for offsets in by_partition.values():
            assert offsets == list(range(len(offsets)))

    def test_reading_from_an_offset_returns_only_the_entries_from_it_on(
        self, log: EventLog
    ) -> None:
        log.append(records(60, people=1))
        partition = log.partition_of(person(0))
        every = log.read(partition, 0, 100)
        assert log.read(partition, 25, 100) == every[25:]
        assert [e.offset for e in log.read(partition, 59, 100)] == [59]

    def test_reading_at_or_past_the_end_returns_nothing(self, log: EventLog) -> None:
        log.append(records(10, people=1))
        partition = log.partition_of(person(0))
        assert log.read(partition, 10, 100) == []
        assert log.read(partition, 1000, 100) == []
        assert log.read((partition + 1) % log.partitions, 0, 100) == []

    def test_a_read_returns_at_most_limit_entries(self, log: EventLog) -> None:
        log.append(records(30, people=1))
        partition = log.partition_of(person(0))
        assert [e.offset for e in log.read(partition, 4, 5)] == [4, 5, 6, 7, 8]
        assert len(log.read(partition, 0, 1)) == 1
        assert log.read(partition, 0, 0) == []

    def test_one_key_always_lands_on_one_partition(self, log: EventLog) -> None:
        for round_ in range(3):
            log.append(records(40, people=12, first=40 * round_))
        partitions_by_key: dict[str, set[int]] = defaultdict(set)
        for entry in read_all(log):
            partitions_by_key[entry.key].add(entry.partition)
        assert len(partitions_by_key) == 12
        for key, partitions in partitions_by_key.items():
            assert partitions == {log.partition_of(key)} == {partition_for(key, log.partitions)}

    def test_end_offsets_advance_by_what_was_appended(self, log: EventLog) -> None:
        assert log.end_offsets() == dict.fromkeys(range(log.partitions), 0)
        before = log.end_offsets()
        batch = records(90, people=25)
        log.append(batch)
        appended = {p: 0 for p in range(log.partitions)}
        for record in batch:
            appended[log.partition_of(record.key)] += 1
        assert log.end_offsets() == {p: before[p] + appended[p] for p in before}

    @pytest.mark.parametrize(
        "bad",
        [
            LogRecord(person(3), "not bytes"),  # type: ignore[arg-type]
            LogRecord(person(3), None),  # type: ignore[arg-type]
            LogRecord(b"not text", b"{}"),  # type: ignore[arg-type]
            LogRecord("", b"{}"),
            LogRecord(person(3), b"{}", [("ce_id", b"1")]),  # type: ignore[arg-type]
            LogRecord(person(3), b"{}", (("ce_id", "1"),)),  # type: ignore[arg-type]
            LogRecord(person(3), b"{}", ((b"ce_id", b"1"),)),  # type: ignore[arg-type]
            LogRecord(person(3), b"{}", (("ce_id", b"1", b"2"),)),  # type: ignore[arg-type]
        ],
        ids=[
            "value-str",
            "value-none",
            "key-bytes",
            "key-empty",
            "headers-list",
            "header-value-str",
            "header-name-bytes",
            "header-triple",
        ],
    )
    def test_an_append_that_fails_part_way_leaves_nothing_of_its_batch(
        self, log: EventLog, bad: LogRecord
    ) -> None:
        log.append(records(20))
        before, ends = read_all(log), log.end_offsets()
        batch = [*records(30, first=20), bad, *records(10, first=50)]
        with pytest.raises(LogError, match="record 30 of the batch"):
            log.append(batch)
        assert read_all(log) == before
        assert log.end_offsets() == ends
        log.append(records(5, first=60))  # and the next batch continues with no gap
        assert sum(log.end_offsets().values()) == 25

    def test_a_refused_record_is_described_without_its_content(self, log: EventLog) -> None:
        with pytest.raises(LogError) as refused:
            log.append([LogRecord(person(1), "NHS 943 476 5919")])  # type: ignore[arg-type]
        assert "943" not in str(refused.value)
        assert "str" in str(refused.value)

    def test_an_empty_append_changes_nothing(self, log: EventLog) -> None:
        log.append(records(3))
        before, ends = read_all(log), log.end_offsets()
        log.append([])
        assert read_all(log) == before
        assert log.end_offsets() == ends

    def test_the_log_keeps_its_contents_across_close_and_reopen(self, tmp_path: Path) -> None:
        with self.make_log(tmp_path) as log:
            log.append(records(80, people=11))
            before, ends = read_all(log), log.end_offsets()
        with self.make_log(tmp_path) as log:
            assert read_all(log) == before
            assert log.end_offsets() == ends
            log.append(records(1, first=80))
            assert sum(log.end_offsets().values()) == 81

    def test_two_readers_do_not_disturb_each_other(self, tmp_path: Path) -> None:
        with (
            self.make_log(tmp_path) as writer,
            self.make_log(tmp_path) as first,
            self.make_log(tmp_path) as second,
        ):
            writer.append(records(40, people=1))
            partition = writer.partition_of(person(0))
            assert [e.offset for e in first.read(partition, 0, 10)] == list(range(10))
            assert [e.offset for e in second.read(partition, 30, 100)] == list(range(30, 40))
            writer.append(records(5, people=1, first=40))
            assert [e.offset for e in first.read(partition, 10, 3)] == [10, 11, 12]
            assert [e.offset for e in second.read(partition, 40, 100)] == list(range(40, 45))
            assert first.end_offsets() == second.end_offsets() == writer.end_offsets()

    def test_a_partition_the_log_does_not_have_is_refused(self, log: EventLog) -> None:
        for partition in (-1, log.partitions):
            with pytest.raises(LogError, match=f"partition {partition} is not in this log"):
                log.read(partition, 0, 10)

    def test_a_negative_start_or_limit_is_refused(self, log: EventLog) -> None:
        with pytest.raises(LogError, match="0 or more"):
            log.read(0, -1, 10)
        with pytest.raises(LogError, match="0 or more"):
            log.read(0, 0, -1)

    def test_closing_twice_is_harmless(self, tmp_path: Path) -> None:
        log = self.make_log(tmp_path)
        log.close()
        log.close()

    @settings(
        max_examples=25,
        deadline=None,
        # Every adapter runs this same method: a different executor per class is intended.
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
    )
    @given(
        batches=st.lists(
            st.lists(st.tuples(st.integers(0, 15), st.binary(max_size=20)), max_size=30),
            max_size=6,
        )
    )
    def test_any_sequence_of_batches_reads_back_in_order_per_key_with_dense_offsets(
        self, batches: list[list[tuple[int, bytes]]]
    ) -> None:
        with tempfile.TemporaryDirectory() as folder, self.make_log(Path(folder)) as log:
            appended: list[LogRecord] = []
            for batch in batches:
                log.append([LogRecord(person(n), value) for n, value in batch])
                appended.extend(LogRecord(person(n), value) for n, value in batch)
            read = read_all(log, batch=4)
            assert values_by_key(read) == values_by_key(
                [LogEntry(0, 0, r.key, r.value) for r in appended]
            )
            for partition in range(log.partitions):
                offsets = [e.offset for e in read if e.partition == partition]
                assert offsets == list(range(log.end_offsets()[partition]))
