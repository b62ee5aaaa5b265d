"""The worker on the production path, killed with SIGKILL again and again, loses and doubles
nothing: over a place of more than 100,000 events on Kafka, `hub worker` (a subprocess in the
consumer group, storing in PostgreSQL) is killed at 12 random moments while it is applying,
restarted each time, and the final store and every answer equal an uninterrupted run's.

How the kill moments are chosen: after each start the test waits until the store's positions
move (the worker has joined the group and is saving batches), then waits a random 0-1.2 s
(seeded; the seed is printed, and `HUB_KILL_SEED` replays a run) and kills. So every kill lands
while batches are being read, applied and saved, at a random point within or between them.
"""

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from hub.bootstrap import open_hub, open_store, record_keys_of
from hub.demo.run import quiet, run_demo
from hub.log.kafka import KafkaLog
from hub.settings import Settings
from hub.store.application import Hub
from hub.worker.worker import Worker, tracking_name
from schemas.place import load_place
from tests.integration.conftest import answers, journeys, settings_env, stored

KILLS = 12
PEOPLE = 24_500  # about 101,000 accepted events


def applied(app: Hub, log: KafkaLog) -> int:
    return sum(
        app.process_recorder.max_tracking_id(tracking_name(log, p)) or 0
        for p in range(log.partitions)
    )


def start_worker(settings: Settings, out: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings_env(settings)}
    with out.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "worker", *args],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_sigkilled_workers_lose_and_double_nothing(
    settings_for: Callable[[str, str], Settings], tmp_path: Path, agencies: Path
) -> None:
    seed = int(os.environ.get("HUB_KILL_SEED", time.time_ns() % 1_000_000))
    print(f"kill seed {seed} (set HUB_KILL_SEED={seed} to replay)")
    rng = random.Random(seed)
    settings = settings_for("kafka", "postgres")
    began = time.monotonic()
    with open_hub(settings) as hub:
        run = run_demo(hub, agencies, people=PEOPLE, seed=3, stage=quiet, apply=False)
    accepted = sum(a.accepted for a in run.agencies)
    assert accepted >= 100_000
    published = time.monotonic()

    out = tmp_path / "worker.out"
    assert settings.kafka is not None
    log = KafkaLog(settings.kafka, settings.topic)
    store = open_store(settings)
    total = sum(log.end_offsets().values())
    kills = []
    try:
        for _ in range(KILLS):
            before = applied(store, log)
            assert before < total, f"the worker finished after {len(kills)} kills: too few events"
            worker = start_worker(settings, out)
            wait_until(
                lambda before=before: applied(store, log) > before,
                120,
                "the worker to save a batch",
            )
            time.sleep(rng.uniform(0.0, 1.2))
            assert worker.poll() is None, "the worker exited by itself"
            worker.send_signal(signal.SIGKILL)
            worker.wait(30)
            kills.append(applied(store, log))
        killing = time.monotonic()
        final = start_worker(settings, out, "--until-caught-up")
        assert final.wait(600) == 0, out.read_text()
        assert applied(store, log) == total
        finished = time.monotonic()
        killed = journeys(stored(store))
        place = load_place(settings.data_dir / "place" / "place.toml")
        killed_answers = answers(store, place)
        # The uninterrupted run: the same log, read straight through into a fresh store (the
        # payloads opened with the record keys ingest made, in the published store's schema).
        clean = Hub(
            env={
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(tmp_path / "c.db"),
            }
        )
        try:
            assert Worker(clean, log, batch_size=1000).run_until_caught_up() == total
            clean_journeys = journeys(stored(clean))
            clean_answers = answers(clean, place, record_keys_of(store))
        finally:
            clean.close()
    finally:
        store.close()
        log.close()
    print(
        f"{total:,} entries; positions at each kill: {kills}; publish {published - began:.0f} s, "
        f"kills {killing - published:.0f} s, last run {finished - killing:.0f} s"
    )
    assert len(kills) >= 10
    assert kills == sorted(kills)
    assert kills[-1] < total

    assert killed == clean_journeys  # nothing lost, nothing twice, byte for byte
    assert killed_answers == clean_answers
