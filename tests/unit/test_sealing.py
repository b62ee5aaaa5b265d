"""Sealed payloads open only with their record's key and for their own event; a record's key
is made once and kept for its later versions, by however many processes at once; erasing it,
or sweeping it while pending, leaves no byte of it in the key store. The record-key contract
(`tests.unit.keys_contract`) on the embedded store."""

import base64
import multiprocessing
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.bootstrap import record_keys_of
from hub.keys.port import TABLE, Record, RecordKeys
from hub.keys.sealing import SealError, new_key, seal, unseal
from hub.keys.sqlite import EmbeddedRecordKeys
from schemas.errors import HubError
from tests.unit.keys_contract import RecordKeysContract

OLD_SQLITE_DDL = f"""
create table {TABLE} (
    source text not null,
    recordref text not null,
    key blob,
    created_at text not null,
    erased_at text,
    events integer,
    primary key (source, recordref)
) without rowid
"""
"""The table as made before keys could be pending (no `pending_at`)."""


class TestEmbeddedRecordKeysContract(RecordKeysContract):
    def make_keys(self, tmp_path: Path) -> RecordKeys:
        return EmbeddedRecordKeys(tmp_path / "record-keys.sqlite")

    def make_old_store(
        self, tmp_path: Path, keys: dict[Record, bytes], erased: dict[Record, datetime]
    ) -> None:
        made = "2024-01-01T00:00:00.000000+00:00"
        db = sqlite3.connect(tmp_path / "record-keys.sqlite")
        with db:
            db.execute(OLD_SQLITE_DDL)
            db.executemany(
                f"insert into {TABLE} (source, recordref, key, created_at) values (?, ?, ?, ?)",
                [(*rec, key, made) for rec, key in keys.items()],
            )
            db.executemany(
                f"insert into {TABLE} (source, recordref, created_at, erased_at, events) "
                "values (?, ?, ?, ?, 1)",
                [(*rec, made, at.isoformat(timespec="microseconds")) for rec, at in erased.items()],
            )
        db.close()


SOURCE = "urn:agency:police-north"
EVENT = f"{'ab' * 32}-v1"
PAYLOAD = {"locality": "ashfield", "data": {"need": "housing", "urgency": "routine"}}
AT = datetime(2025, 3, 1, 9, tzinfo=UTC)


def test_a_sealed_payload_opens_with_its_key_for_its_event() -> None:
    key = new_key()
    sealed = seal(key, SOURCE, EVENT, PAYLOAD)
    assert unseal(key, SOURCE, EVENT, sealed) == PAYLOAD
    assert b"ashfield" not in base64.b64decode(sealed)
    assert seal(key, SOURCE, EVENT, PAYLOAD) != sealed  # a fresh nonce each time


def test_a_changed_byte_another_key_or_another_event_does_not_open() -> None:
    key = new_key()
    sealed = seal(key, SOURCE, EVENT, PAYLOAD)
    raw = bytearray(base64.b64decode(sealed))
    for index in (0, 12, len(raw) - 1):  # the nonce, the ciphertext, the tag
        changed = bytearray(raw)
        changed[index] ^= 1
        with pytest.raises(SealError):
            unseal(key, SOURCE, EVENT, base64.b64encode(changed).decode())
    other = new_key()
    with pytest.raises(SealError) as refused:
        unseal(other, SOURCE, EVENT, sealed)
    for shown in (key, other):
        assert shown.hex() not in str(refused.value)
        assert base64.b64encode(shown).decode() not in str(refused.value)
    with pytest.raises(SealError):
        unseal(key, SOURCE, f"{'ab' * 32}-v2", sealed)
    with pytest.raises(SealError):
        unseal(key, "urn:agency:nhs-gp", EVENT, sealed)
    with pytest.raises(SealError):
        unseal(key, SOURCE, EVENT, "not base64!")


def test_a_records_key_is_made_once_and_reused_for_its_next_version(tmp_path: Path) -> None:
    keys = EmbeddedRecordKeys(tmp_path / "record-keys.sqlite")
    first, second = (SOURCE, "1" * 64), (SOURCE, "2" * 64)
    made = keys.get_or_create([first])
    again = keys.get_or_create([first, second])
    assert again[first] == made[first]
    assert len(again[second]) == 32
    assert again[second] != again[first]
    keys.close()
    assert EmbeddedRecordKeys(tmp_path / "record-keys.sqlite").get([first, second]) == again


def _make_keys(path: Path, records: list[tuple[str, str]], start: object) -> dict[str, str]:
    start.wait()  # type: ignore[attr-defined]
    keys = EmbeddedRecordKeys(path)
    made: dict[str, str] = {}
    for first in range(0, len(records), 25):
        batch = records[first : first + 25]
        made |= {ref: key.hex() for (_, ref), key in keys.get_or_create(batch).items()}
    keys.close()
    return made


def test_processes_making_the_same_records_keys_at_once_get_one_key_each(tmp_path: Path) -> None:
    path = tmp_path / "record-keys.sqlite"
    EmbeddedRecordKeys(path).close()
    records = [(SOURCE, f"{n:064x}") for n in range(400)]
    context = multiprocessing.get_context("fork")
    start = context.Manager().Barrier(4)
    orders = [records, records[::-1], records[1::2] + records[::2], records]
    with context.Pool(4) as pool:
        made = pool.starmap(_make_keys, [(path, order, start) for order in orders])
    assert all(m == made[0] for m in made[1:])
    assert len(made[0]) == 400
    assert len(set(made[0].values())) == 400


def test_an_erased_key_is_gone_from_the_key_store_files_and_stays_erased(tmp_path: Path) -> None:
    path = tmp_path / "record-keys.sqlite"
    keys = EmbeddedRecordKeys(path)
    erased, kept = (SOURCE, "e" * 64), (SOURCE, "f" * 64)
    made = keys.get_or_create([erased, kept])

    def found(key: bytes) -> bool:
        return any(key in p.read_bytes() for p in tmp_path.iterdir() if p.is_file())

    assert found(made[erased])
    assert keys.erase(erased, AT, 3)
    assert not keys.erase(erased, AT, 3)
    keys.scrub()
    assert not found(made[erased])
    assert found(made[kept])
    assert keys.get_or_create([erased, kept]) == {kept: made[kept]}
    assert keys.lookup([erased, kept, (SOURCE, "0" * 64)]) == {erased: AT, kept: None}
    (listed,) = keys.erasures()
    assert (listed.source, listed.recordref, listed.events, listed.erased_at) == (*erased, 3, AT)


def test_the_key_store_beside_an_in_memory_event_store_must_be_given() -> None:
    from hub.store.application import Hub

    app = Hub(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    with pytest.raises(HubError, match="pass the key store"):
        record_keys_of(app)


def test_a_swept_key_is_gone_from_the_key_store_files(tmp_path: Path) -> None:
    keys = EmbeddedRecordKeys(tmp_path / "record-keys.sqlite")
    swept, kept = (SOURCE, "a" * 64), (SOURCE, "b" * 64)
    made = keys.get_or_create([swept, kept])
    keys.confirm([kept])

    def found(key: bytes) -> bool:
        return any(key in p.read_bytes() for p in tmp_path.iterdir() if p.is_file())

    assert found(made[swept])
    assert keys.sweep(datetime.now(UTC) + timedelta(minutes=1)) == 1
    assert not found(made[swept])
    assert found(made[kept])
    keys.close()
