"""Kill the worker with SIGKILL mid-batch, restart it: the store ends as if nothing happened."""

import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.csv_connector import CsvConnector
from connectors.mapping import load_mapping
from connectors.pseudonym import Pseudonymiser
from connectors.synth import synthesise
from hub.ingest.seen import SqliteSeen
from hub.ingest.service import Ingest
from hub.keys.sqlite import EmbeddedRecordKeys
from hub.log import EmbeddedLog
from hub.store.application import Hub
from hub.worker.worker import Worker
from schemas.place import load_place
from tests.gateway_key import TEST_GATEWAY

ROOT = Path(__file__).resolve().parents[2]
# A worker that pauses after each batch, so the test can kill it between and within batches.
SLOW_WORKER = """
import sys, time
from pathlib import Path
from hub.store.application import Hub
from hub.log import EmbeddedLog
from hub.worker.worker import Worker

class Slow(Worker):
    def step(self, partition):
        done = super().step(partition)
        time.sleep(0.01)
        return done

app = Hub(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": sys.argv[2]})
Slow(app, EmbeddedLog(Path(sys.argv[1])), batch_size=25).run_until_caught_up()
"""


def _store(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(
            "select originator_id, originator_version, topic, state from stored_events order by rowid"
        ).fetchall()


def _applied(path: Path) -> int:
    try:
        with sqlite3.connect(path) as db:
            return int(
                db.execute("select coalesce(sum(notification_id), 0) from tracking").fetchone()[0]
            )
    except sqlite3.OperationalError:
        return 0


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("crash")
    agencies = tmp_path_factory.mktemp("agencies")  # their extracts: never in the hub's folder
    synthesise(agencies, people=600, seed=11)
    place = load_place(agencies / "place.toml")
    log = EmbeddedLog(folder / "log.sqlite")
    clock = datetime(2026, 1, 1, tzinfo=UTC)
    keys = EmbeddedRecordKeys(folder / "record-keys.sqlite")
    ingest = Ingest(
        log, SqliteSeen(folder / "seen.sqlite"), b"h" * 32, keys, TEST_GATEWAY, clock=lambda: clock
    )
    pseudonymiser = Pseudonymiser(b"k" * 32, 1)
    for agency in place.agencies:
        mapping = load_mapping(agencies / "mappings" / f"{agency.slug}.toml", place)
        for batch in CsvConnector(mapping, place, pseudonymiser).read(
            agencies / "extracts" / f"{agency.slug}.csv"
        ):
            ingest.submit(agency.slug, batch.events)
    log.close()
    return folder / "log.sqlite"


def test_a_worker_killed_mid_run_resumes_to_the_same_store(log_path: Path, tmp_path: Path) -> None:
    whole, crashed = tmp_path / "whole.db", tmp_path / "crashed.db"
    reference = Hub(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(whole)})
    Worker(reference, EmbeddedLog(log_path), batch_size=25).run_until_caught_up()

    command = [sys.executable, "-c", SLOW_WORKER, str(log_path), str(crashed)]
    worker = subprocess.Popen(command, cwd=ROOT, env={"PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 60
    while _applied(crashed) < 300 and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.005)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert worker.returncode == -signal.SIGKILL, "the worker finished before it could be killed"
    partial = len(_store(crashed))
    assert 0 < partial < len(_store(whole))

    restarted = Hub(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(crashed)}
    )
    Worker(restarted, EmbeddedLog(log_path), batch_size=25).run_until_caught_up()
    assert _store(crashed) == _store(whole)
