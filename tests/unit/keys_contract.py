"""The contract every record-key adapter keeps (one suite runs on both): keys made pending,
confirmed once in use, swept when nobody used them; erasures untouched; old stores opened.

An adapter's test module subclasses `RecordKeysContract` as `Test...` and supplies `make_keys`
and `make_old_store`:

    class TestEmbeddedRecordKeysContract(RecordKeysContract):
        def make_keys(self, tmp_path: Path) -> RecordKeys:
            return EmbeddedRecordKeys(tmp_path / "record-keys.sqlite")
"""

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.keys.port import Record, RecordKeys
from hub.keys.sealing import new_key
from schemas.errors import HubError

SOURCE = "urn:agency:police-north"
AT = datetime(2025, 3, 1, 9, tzinfo=UTC)
MARGIN = timedelta(minutes=1)  # far more than any clock step between this test and a server


def record(n: int) -> Record:
    return (SOURCE, f"{n:064x}")


class RecordKeysContract(ABC):
    """Tests any `RecordKeys` must pass; `make_keys` gives a store kept in `tmp_path`."""

    @abstractmethod
    def make_keys(self, tmp_path: Path) -> RecordKeys:
        """A key store over `tmp_path`'s storage: empty at first, the same store again after."""

    @abstractmethod
    def make_old_store(
        self, tmp_path: Path, keys: dict[Record, bytes], erased: dict[Record, datetime]
    ) -> None:
        """Write, where `make_keys` will open it, a store as made before keys could be
        pending: the table without its `pending_at` column, holding `keys` and `erased`."""

    @pytest.fixture
    def keys(self, tmp_path: Path) -> Iterator[RecordKeys]:
        keys = self.make_keys(tmp_path)
        yield keys
        keys.close()

    def test_a_pending_key_is_usable_like_any_other(self, keys: RecordKeys) -> None:
        made = keys.get_or_create([record(1)])
        assert keys.get([record(1)]) == made
        assert keys.lookup([record(1)]) == {record(1): None}
        assert keys.get_or_create([record(1), record(2)])[record(1)] == made[record(1)]

    def test_a_key_confirmed_after_it_was_made_survives_a_sweep(self, keys: RecordKeys) -> None:
        made = keys.get_or_create([record(1), record(2)])
        keys.confirm([record(1), record(2)])
        keys.confirm([record(1)])  # again: left as it is
        assert keys.sweep(datetime.now(UTC) + MARGIN) == 0
        assert keys.get([record(1), record(2)]) == made

    def test_a_pending_key_older_than_the_cutoff_is_swept_and_made_anew_after(
        self, keys: RecordKeys
    ) -> None:
        made = keys.get_or_create([record(1), record(2)])
        keys.confirm([record(2)])
        assert keys.sweep(datetime.now(UTC) + MARGIN) == 1
        assert keys.get([record(1), record(2)]) == {record(2): made[record(2)]}
        assert keys.lookup([record(1)]) == {}  # unknown now, not erased
        assert keys.erasures() == []
        again = keys.get_or_create([record(1)])
        assert len(again[record(1)]) == 32
        assert again[record(1)] != made[record(1)]
        assert keys.sweep(datetime.now(UTC) + MARGIN) == 1  # the new key is pending too

    def test_a_pending_key_newer_than_the_cutoff_survives(self, keys: RecordKeys) -> None:
        made = keys.get_or_create([record(1)])
        assert keys.sweep(datetime.now(UTC) - MARGIN) == 0
        assert keys.get([record(1)]) == made

    def test_a_pending_key_handed_out_again_is_kept_by_a_cutoff_after_it_was_made(
        self, keys: RecordKeys
    ) -> None:
        made = keys.get_or_create([record(1)])
        time.sleep(0.2)
        between = datetime.now(UTC)
        time.sleep(0.2)
        assert keys.get_or_create([record(1)]) == made  # a batch prepared again with it
        assert keys.sweep(between) == 0
        assert keys.get([record(1)]) == made

    def test_confirm_and_sweep_leave_an_erased_record_as_it_is(self, keys: RecordKeys) -> None:
        keys.get_or_create([record(1), record(2)])  # record 1 erased while still pending
        keys.confirm([record(2)])
        assert keys.erase(record(1), AT, 2)
        assert keys.erase(record(2), AT, 3)
        keys.scrub()
        keys.confirm([record(1), record(2)])
        assert keys.sweep(datetime.now(UTC) + MARGIN) == 0
        assert keys.lookup([record(1), record(2)]) == {record(1): AT, record(2): AT}
        assert [(e.recordref, e.events) for e in keys.erasures()] == [
            (record(1)[1], 2),
            (record(2)[1], 3),
        ]
        assert keys.get_or_create([record(1), record(2)]) == {}

    def test_confirming_nothing_or_unknown_records_changes_nothing(self, keys: RecordKeys) -> None:
        keys.confirm([])
        keys.confirm([record(9)])
        assert keys.lookup([record(9)]) == {}
        assert keys.sweep(datetime.now(UTC) + MARGIN) == 0

    def test_a_cutoff_without_a_time_zone_is_refused(self, keys: RecordKeys) -> None:
        keys.get_or_create([record(1)])
        with pytest.raises(HubError, match="no time zone") as refused:
            keys.sweep(datetime.now() + MARGIN)  # naive: refused
        assert refused.value.field == "made_before"
        assert keys.get([record(1)]) != {}

    def test_writers_making_and_confirming_the_same_keys_at_once_agree_on_each(
        self, tmp_path: Path
    ) -> None:
        # Round after round, every writer asks for the same new records' keys and confirms
        # them, half of them backwards: writers locking rows in the order given would deadlock.
        rounds = [[record(300 * n + i) for i in range(300)] for n in range(8)]
        each = [self.make_keys(tmp_path) for _ in range(4)]
        start, failed = threading.Barrier(len(each)), []
        got: list[dict[Record, bytes]] = [{} for _ in each]

        def write(n: int) -> None:
            for records in rounds:
                start.wait()
                try:
                    asked = records[::-1] if n % 2 else records
                    got[n] |= each[n].get_or_create(asked)
                    each[n].confirm(asked)
                except Exception as error:  # shown below, not lost in the thread
                    failed.append(error)

        threads = [threading.Thread(target=write, args=(n,)) for n in range(len(each))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        try:
            assert not failed, [repr(error) for error in failed]
            assert all(made == got[0] for made in got[1:])
            assert len(set(got[0].values())) == 300 * len(rounds)
            assert each[0].sweep(datetime.now(UTC) + MARGIN) == 0  # every one confirmed
        finally:
            for keys in each:
                keys.close()

    def test_a_store_made_before_keys_could_be_pending_opens_with_its_keys_confirmed(
        self, tmp_path: Path
    ) -> None:
        old = {record(1): new_key(), record(2): new_key()}
        self.make_old_store(tmp_path, old, {record(3): AT})
        keys = self.make_keys(tmp_path)
        try:
            assert keys.get([record(1), record(2), record(3)]) == old
            assert keys.lookup([record(1), record(3)]) == {record(1): None, record(3): AT}
            assert keys.sweep(datetime.now(UTC) + MARGIN) == 0  # none of them pending
            made = keys.get_or_create([record(1), record(3), record(4)])
            assert made[record(1)] == old[record(1)]
            assert record(3) not in made  # still erased
            assert keys.sweep(datetime.now(UTC) + MARGIN) == 1  # only the new one was pending
        finally:
            keys.close()
        reopened = self.make_keys(tmp_path)  # migrated already: opens as it is
        try:
            assert reopened.get([record(1), record(2), record(4)]) == old
            assert [e.recordref for e in reopened.erasures()] == [record(3)[1]]
        finally:
            reopened.close()
