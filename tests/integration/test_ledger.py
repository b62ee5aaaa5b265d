"""The audit ledger on both stores (SQLite, and PostgreSQL on a real server): an untouched store
verifies; updating, deleting, swapping or forging one stored event makes `hub audit verify`
fail naming the right leaf; a store rebuilt wholesale with a new ledger passes its own new
checkpoints but fails against a copy kept from before; proofs and checkpoints verify."""

import base64
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import orjson
import pytest
from typer.testing import CliRunner

from hub.audit.auditor import Audit
from hub.audit.checkpoint import CheckpointError
from hub.audit.signed_note import verify_note
from hub.audit.signing_key import SigningKey
from hub.bootstrap import open_hub, open_store, postgres_connect, record_keys_of
from hub.cli import app as cli
from hub.demo.run import quiet, run_demo
from hub.settings import Settings
from hub.store.application import Hub
from hub.store.leaves import TABLE, event_leaf, extend, frontier_keys, leaf_data
from hub.store.ledger import Ledger
from hub.store.merkle import leaf_hash, verify_consistency, verify_inclusion
from tests.integration.conftest import settings_env

STORES = ["sqlite", "postgres"]


class Tamperer:
    """Direct SQL on a store's events table, as someone with the database's password could."""

    def __init__(self, settings: Settings) -> None:
        self.postgres = settings.store == "postgres"
        if self.postgres:
            self.con: Any = postgres_connect(settings.store_env)
            schema = settings.store_env["POSTGRES_SCHEMA"]
            app = open_store(settings)
            table = app.recorder.events_table_name  # type: ignore[attr-defined]
            app.close()
            self.events, self.ledger, self.id = (
                f'"{schema}".{table}',
                f'"{schema}".{TABLE}',
                "notification_id",
            )
        else:
            self.con = sqlite3.connect(settings.data_dir / "hub.db", isolation_level=None)
            self.events, self.ledger, self.id = "stored_events", TABLE, "rowid"

    def run(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        sql = sql.format(events=self.events, ledger=self.ledger, id=self.id)
        if self.postgres:
            sql = sql.replace("?", "%s")
        cursor = self.con.execute(sql, params)
        return list(cursor.fetchall()) if cursor.description else []

    def row(self, position: int) -> tuple[Any, ...]:
        rows = self.run(
            "SELECT originator_id, originator_version, topic, state FROM {events} WHERE {id} = ?",
            [position],
        )
        return rows[0]

    def put(self, position: int, row: tuple[Any, ...]) -> None:
        self.run(
            "INSERT INTO {events} ({id}, originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?, ?)",
            [position, *row],
        )

    def delete(self, position: int) -> None:
        self.run("DELETE FROM {events} WHERE {id} = ?", [position])

    def close(self) -> None:
        self.con.close()


@pytest.fixture(params=STORES)
def audited(
    request: pytest.FixtureRequest, settings_for: Callable[..., Settings], agencies: Path
) -> Iterator[tuple[Settings, Tamperer]]:
    """A small demo place applied to the store, with the checkpoint the demo signs."""
    settings = settings_for("embedded", request.param)
    with open_hub(settings) as hub:
        run_demo(hub, agencies, people=150, seed=3, stage=quiet)
    tamperer = Tamperer(settings)
    yield settings, tamperer
    tamperer.close()


def audit_cli(settings: Settings, *args: str) -> tuple[int, Any]:
    """Run `hub audit ARGS --json` on these settings; the exit code and the JSON printed."""
    result = CliRunner().invoke(
        cli,
        ["audit", *args, "--json", "--data-dir", str(settings.data_dir), "--store", settings.store],
        env=settings_env(settings),
    )
    output = result.stdout
    return result.exit_code, orjson.loads(output) if output.strip() else None


def positions(settings: Settings) -> list[int]:
    app = open_store(settings)
    try:
        ledger = Ledger(app.queries)
        return [ledger.leaf(i)[0] for i in range(ledger.size())]
    finally:
        app.close()


def test_untouched_store_verifies(audited: tuple[Settings, Tamperer]) -> None:
    settings, _ = audited
    code, report = audit_cli(settings, "verify")
    assert code == 0, report
    assert report["ok"]
    assert report["leaves"] == report["events"] > 500
    assert report["checkpoints"] >= 1


def test_each_tampering_is_found_and_named(audited: tuple[Settings, Tamperer]) -> None:
    settings, store = audited
    leaves = positions(settings)
    index, other = 123, 321
    p, q = leaves[index], leaves[other]
    original, second = store.row(p), store.row(q)

    # Altered: one byte of one stored event's state.
    state = bytearray(bytes(original[3]))
    state[len(state) // 2] ^= 0x01
    store.run("UPDATE {events} SET state = ? WHERE {id} = ?", [bytes(state), p])
    code, report = audit_cli(settings, "verify")
    assert code == 1
    assert report["problem"]["kind"] == "altered"
    assert (report["problem"]["leaf"], report["problem"]["position"]) == (index, p)
    assert f"leaf {index}" in report["problem"]["message"]
    store.run("UPDATE {events} SET state = ? WHERE {id} = ?", [original[3], p])
    assert audit_cli(settings, "verify")[0] == 0

    # Deleted.
    store.delete(p)
    code, report = audit_cli(settings, "verify")
    assert code == 1
    assert report["problem"]["kind"] == "deleted"
    assert (report["problem"]["leaf"], report["problem"]["position"]) == (index, p)
    store.put(p, original)
    assert audit_cli(settings, "verify")[0] == 0

    # Swapped: two stored events change places.
    store.delete(p)
    store.delete(q)
    store.put(p, second)
    store.put(q, original)
    code, report = audit_cli(settings, "verify")
    assert code == 1
    assert report["problem"]["kind"] == "reordered"
    assert (report["problem"]["leaf"], report["problem"]["position"]) == (index, p)
    assert f"leaf {other}" in report["problem"]["message"]
    store.delete(p)
    store.delete(q)
    store.put(p, original)
    store.put(q, second)
    assert audit_cli(settings, "verify")[0] == 0

    # Inserted: a forged event after the last (and one between two, where a gap allows).
    last = leaves[-1]
    forged = (uuid4() if store.postgres else uuid4().hex, 1, original[2], original[3])
    store.put(last + 1, forged)
    code, report = audit_cli(settings, "verify")
    assert code == 1
    assert report["problem"]["kind"] == "inserted"
    assert (report["problem"]["leaf"], report["problem"]["position"]) == (len(leaves), last + 1)
    store.delete(last + 1)
    assert audit_cli(settings, "verify")[0] == 0


def test_a_store_rewritten_with_a_new_ledger_fails_against_a_kept_checkpoint(
    audited: tuple[Settings, Tamperer], tmp_path: Path
) -> None:
    settings, store = audited
    kept = tmp_path / "kept-checkpoints.txt"
    shutil.copy(settings.data_dir / "audit" / "checkpoints.txt", kept)
    leaves = positions(settings)
    p = leaves[40]
    row = store.row(p)
    state = bytearray(bytes(row[3]))
    state[-2] ^= 0x01
    store.run("UPDATE {events} SET state = ? WHERE {id} = ?", [bytes(state), p])
    # The whole ledger rebuilt from the rewritten store, and its checkpoints signed anew.
    rows = store.run(
        "SELECT {id}, originator_id, originator_version, topic, state FROM {events} ORDER BY {id}"
    )
    hashed = [(int(r[0]), leaf_hash(leaf_data(r[1], r[2], r[3], bytes(r[4])))) for r in rows]
    store.run("DELETE FROM {ledger}")
    for first in range(0, len(hashed), 500):
        done = first
        new_rows = extend(done, _frontier(store, done), hashed[first : first + 500])
        for new in new_rows:
            store.run(
                "INSERT INTO {ledger} (size, level, hash, notification_id) VALUES (?, ?, ?, ?)",
                list(new),
            )
    (settings.data_dir / "audit" / "checkpoints.txt").unlink()
    app = open_store(settings)
    try:
        Audit(app, settings, record_keys_of(app)).checkpoint()
    finally:
        app.close()
    assert audit_cli(settings, "verify")[0] == 0  # nothing inside the hub can tell
    code, report = audit_cli(settings, "verify", "--checkpoint", str(kept))
    assert code == 1
    assert report["problem"]["kind"] == "checkpoint"
    assert str(kept) in report["problem"]["message"]


def _frontier(store: Tamperer, size: int) -> dict[int, bytes]:
    frontier: dict[int, bytes] = {}
    for key in frontier_keys(size):
        found = store.run("SELECT hash FROM {ledger} WHERE size = ? AND level = ?", list(key))
        frontier[key[1]] = bytes(found[0][0])
    return frontier


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_proofs_and_checkpoints_verify(audited: tuple[Settings, Tamperer]) -> None:
    settings, _ = audited
    app: Hub = open_store(settings)
    try:
        audit = Audit(app, settings, record_keys_of(app))
        size = audit.ledger.size()
        stored = app.recorder.select_notifications(start=1, limit=size)
        first_leaf = event_leaf(stored[0])
        vkey = audit.key.verifier_key()
        note = audit.checkpoint()
    finally:
        app.close()
    for leaf in (0, 1, size // 2, size - 1):
        for at in (leaf + 1, size):
            code, proof = audit_cli(settings, "prove", "--leaf", str(leaf), "--size", str(at))
            assert code == 0
            verify_inclusion(
                proof["leafIdx"],
                proof["treeSize"],
                b64(proof["leafHash"]),
                [b64(p) for p in proof["proof"] or []],
                b64(proof["root"]),
            )
    assert audit_cli(settings, "prove", "--leaf", "0")[1]["leafHash"] == (
        base64.b64encode(first_leaf).decode()
    )
    for size1, size2 in ((1, size), (size // 3, size), (size - 1, size), (size, size)):
        code, proof = audit_cli(settings, "consistency", str(size1), str(size2))
        assert code == 0
        verify_consistency(
            proof["size1"],
            proof["size2"],
            b64(proof["root1"]),
            b64(proof["root2"]),
            [b64(p) for p in proof["proof"] or []],
        )
    # The published key verifies the latest checkpoint; another key or a changed byte fails.
    published = CliRunner().invoke(
        cli,
        ["audit", "key", "--data-dir", str(settings.data_dir), "--store", settings.store],
        env=settings_env(settings),
    )
    assert published.stdout.strip() == vkey
    checkpoint = verify_note(note, vkey)
    assert checkpoint.size == size
    assert (
        base64.b64encode(checkpoint.root).decode()
        == audit_cli(settings, "prove", "--leaf", "0")[1]["root"]
    )
    stranger = SigningKey.load_or_create(settings.data_dir / "stranger.pem", checkpoint.origin)
    with pytest.raises(CheckpointError):
        verify_note(note, stranger.verifier_key())
    changed = note.replace(f"\n{size}\n", f"\n{size + 1}\n")
    with pytest.raises(CheckpointError):
        verify_note(changed, vkey)


def test_prove_by_agency_event(audited: tuple[Settings, Tamperer]) -> None:
    settings, store = audited
    leaves = positions(settings)
    index = 200
    while "event_id" not in (state := orjson.loads(bytes(store.row(leaves[index])[3]))):
        index += 1  # a journey's first event records no agency event
    code, proof = audit_cli(settings, "prove", "--event", state["source"], state["event_id"])
    assert code == 0
    assert proof["leafIdx"] == index
    code, _ = audit_cli(settings, "prove", "--event", "police-north", "no-such-event")
    assert code == 2


def test_the_documented_recomputation_gives_the_ledgers_root(
    audited: tuple[Settings, Tamperer], capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/ledger.md's stand-alone script (sqlite3 and hashlib only) agrees with the hub."""
    settings, _ = audited
    if settings.store != "sqlite":
        pytest.skip("the documented script reads the embedded store")
    doc = (Path(__file__).parents[2] / "docs" / "ledger.md").read_text(encoding="utf-8")
    script = doc.split("```python\n", 1)[1].split("```", 1)[0]
    exec(script.replace('"hub-data/hub.db"', repr(str(settings.data_dir / "hub.db"))), {})
    count, root = capsys.readouterr().out.split()
    app = open_store(settings)
    try:
        ledger = Ledger(app.queries)
        assert int(count) == ledger.size()
        assert bytes.fromhex(root) == ledger.root(ledger.size())
    finally:
        app.close()
