"""The worker on Kafka: two members of one group share the partitions and store what one alone
stores; a broker restarted while agencies publish loses nothing; refused entries land on the
rejected topic and `hub rejected` shows them."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

from hub.bootstrap import open_hub, open_store, record_keys_of
from hub.demo.run import DemoRun, quiet, run_demo
from hub.keys.sealing import unseal
from hub.keys.sqlite import EmbeddedRecordKeys
from hub.log.kafka import KafkaLog
from hub.log.kafka_client import KafkaConnection
from hub.settings import Settings
from hub.store.application import Hub
from hub.worker.rejected import pending
from hub.worker.worker import Worker
from schemas.place import load_place
from tests.integration.conftest import answers, journeys, settings_env, stored

ROOT = Path(__file__).resolve().parents[2]
KAFKA = ROOT / "deploy" / "kafka" / "kafka.sh"


def reference(settings: Settings, folder: Path) -> Hub:
    """The log read straight through, in this process, into a fresh SQLite store."""
    app = Hub(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "r.db")}
    )
    with KafkaLog(kafka_of(settings), settings.topic) as log:
        Worker(app, log).run_until_caught_up()
    return app


def test_two_workers_in_one_group_share_the_partitions_and_store_what_one_does(
    settings_for: Callable[[str, str], Settings], tmp_path: Path, agencies: Path
) -> None:
    settings = settings_for("kafka", "postgres")
    with open_hub(settings) as hub:
        run = run_demo(hub, agencies, people=5000, seed=8, stage=quiet, apply=False)
    env = {**os.environ, **settings_env(settings)}
    command = [sys.executable, "-m", "hub.cli", "worker", "--until-caught-up"]
    workers = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=300)[0].decode() for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    shares = [int(re.findall(r"applied ([\d,]+),", out)[-1].replace(",", "")) for out in outputs]
    assert all(share > 0 for share in shares), outputs  # both had partitions
    place = load_place(settings.data_dir / "place" / "place.toml")
    two = open_store(settings)
    one = reference(settings, tmp_path)
    try:
        assert sum(shares) >= sum(a.accepted for a in run.agencies)
        assert journeys(stored(two)) == journeys(stored(one))
        keys = record_keys_of(two)  # the hub's record keys (in the PostgreSQL store)
        assert answers(two, place) == answers(one, place, keys)
    finally:
        two.close()
        one.close()


def kafka_of(settings: Settings) -> KafkaConnection:
    connection = settings.kafka
    assert connection is not None
    return connection


@pytest.fixture
def own_broker() -> Iterator[tuple[str, dict[str, str]]]:
    """A secured broker of this test's own (it is restarted), and the environment that controls
    it (its run folder holds the hub's client configuration, `hub.properties`)."""
    run = Path(tempfile.mkdtemp(prefix="hub-kafka-restart-"))
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    env["HUB_KAFKA_RUN"] = str(run / "broker")
    started = subprocess.run(
        ["bash", str(KAFKA), "start"], env=env, capture_output=True, text=True, timeout=600
    )
    assert started.returncode == 0, started.stderr
    try:
        yield started.stdout.strip().splitlines()[-1], env
    finally:
        subprocess.run(["bash", str(KAFKA), "stop"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(run, ignore_errors=True)


def _published(settings: Settings) -> list[tuple[str, bytes]]:
    """Every entry of the topic as (key, value without the time ingest stamped, its payload
    opened: each run seals under keys of its own), sorted."""
    found = []
    keys = EmbeddedRecordKeys(settings.data_dir / "record-keys.sqlite")
    with KafkaLog(kafka_of(settings), settings.topic) as log:
        for partition in range(log.partitions):
            for e in log.scan(partition, page=5000):
                value = orjson.loads(e.value)
                del value["recordedat"]
                record = (value["source"], value["recordref"])
                key = keys.get([record])[record]
                value["sealed"] = unseal(key, value["source"], value["id"], value["sealed"])
                found.append((e.key, orjson.dumps(value, option=orjson.OPT_SORT_KEYS)))
    keys.close()
    return sorted(found)


def test_a_broker_restarted_while_agencies_publish_loses_nothing(
    own_broker: tuple[str, dict[str, str]], tmp_path: Path, agencies: Path
) -> None:
    bootstrap, env = own_broker
    keys = tmp_path / "keys"
    keys.mkdir()
    paths = {}
    for name in ("restarted", "steady"):
        folder = tmp_path / name
        folder.mkdir()
        paths[name] = Settings(
            data_dir=folder,
            kafka_bootstrap=bootstrap,
            kafka_client_config=Path(env["HUB_KAFKA_RUN"]) / "hub.properties",
            topic=f"hub.events.v1.{name}",
        )
    # Both runs key pseudonyms alike (one agencies' folder, so one place key; the hub key
    # copied), so their entries can be compared one for one.
    with open_hub(paths["steady"]) as hub:
        run_demo(hub, agencies, people=6000, seed=4, stage=quiet, apply=False)
    shutil.copy(paths["steady"].folder.hub_key, paths["restarted"].data_dir / "hub-key.toml")

    outcome: dict[str, DemoRun | BaseException] = {}

    def publish() -> None:
        try:
            with open_hub(paths["restarted"]) as hub:
                outcome["run"] = run_demo(
                    hub, agencies, people=6000, seed=4, stage=quiet, apply=False
                )
        except BaseException as error:  # reported below
            outcome["error"] = error

    publisher = threading.Thread(target=publish)
    with KafkaLog(kafka_of(paths["restarted"]), paths["restarted"].topic) as log:
        publisher.start()
        while sum(log.end_offsets().values()) < 3000:
            assert publisher.is_alive(), outcome
        during = sum(log.end_offsets().values())
    restarted = subprocess.run(
        ["bash", str(KAFKA), "restart"], env=env, capture_output=True, text=True, timeout=300
    )
    assert restarted.returncode == 0, restarted.stderr
    publisher.join(timeout=300)
    assert "error" not in outcome, outcome
    run = outcome["run"]
    assert isinstance(run, DemoRun)
    published = _published(paths["restarted"])
    expected = _published(paths["steady"])
    assert during < len(expected)  # the restart came while publishing
    assert sorted(set(published)) == expected  # every entry there, none altered
    assert sum(a.accepted for a in run.agencies) == len(expected)


def test_refused_entries_land_on_the_rejected_topic_and_the_worker_goes_on(
    settings_for: Callable[[str, str], Settings], agencies: Path
) -> None:
    settings = settings_for("kafka", "sqlite")
    with open_hub(settings) as hub:
        run_demo(hub, agencies, people=100, seed=6, stage=quiet, apply=False)
        hub.log.append([hub.gateway.signed("a" * 64, b"not an event")])  # the gateway's
        applied = hub.worker.run(lambda: hub.worker.lag() == 0, group=settings.worker_group)
        assert applied > 300
        [item] = pending(hub.rejected)
        assert item.field == "(event)"
    env = {**os.environ, **settings_env(settings), "COLUMNS": "200"}
    shown = subprocess.run(
        [sys.executable, "-m", "hub.cli", "rejected"], env=env, capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    assert item.ref in shown.stdout
    assert "1 rejected entries waiting" in shown.stdout
