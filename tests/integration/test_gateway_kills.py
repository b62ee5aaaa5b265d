"""The gateway killed with SIGKILL again and again loses and doubles nothing: a synthetic place
of more than 100,000 events is published by two agency publisher processes at once (`hub
publish --kafka`, each as its agencies' own principals, six agencies each) while `hub gateway`
(storing its duplicate set and record keys in PostgreSQL) is killed at 20 seeded random moments
and started again under the same instance name each time. Then every event is in the log
exactly once (read committed), every event has exactly one receipt, all accepted, and the store
and every answer equal an uninterrupted gateway's run of the same inbound records.

"Equal" here: the same journeys holding the same events (each person's agency events by source,
id and record version) and the same full output of all seven questions. The stored bytes cannot
be equal: the hub's record time is the gateway's clock, every seal has a fresh nonce, and each
store's record keys are its own.

How the kill moments are chosen: after each start the test waits until the gateway has
committed a transaction (the receipts topics' ends move), then a random 0-0.6 s (seeded; the
seed is printed, and `HUB_KILL_SEED` replays a run), and kills.
"""

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import orjson

from connectors.csv_connector import CsvConnector
from connectors.mapping import load_mapping
from connectors.pseudonym import load_pseudonymiser, new_key_file
from connectors.synth import synthesise
from hub.bootstrap import open_hub
from hub.demo.run import DEMO_START
from hub.enrolment.broker import Broker
from hub.log.receipts import ReceiptReader
from hub.settings import Settings
from schemas.place import Place, load_place
from tests.conftest import KafkaService
from tests.integration.conftest import answers, settings_env
from tests.integration.gateway_runs import (
    ReceiptEnds,
    gateway_running,
    inbound_ends,
    read_receipts,
    receipts_end,
    start_group_at_end,
)

KILLS = 20
PEOPLE = 24_500  # about 106,000 events
ROOT = Path(__file__).resolve().parents[2]


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def publishers(
    agencies_dir: Path, enrolled: Path, kafka: KafkaService, slugs: list[str], out: Path
) -> list[subprocess.Popen[bytes]]:
    """Two processes at once, each publishing half the agencies' extracts in turn as each
    agency, from the agencies' folder alone (no hub data folder anywhere near). Each `hub
    publish` exits 1 where its extract has rows the connector refuses (the synthetic place has
    a few): the test counts what reached each inbound topic instead."""
    started = []
    for n, half in enumerate((slugs[0::2], slugs[1::2])):
        script = "; ".join(
            f"{sys.executable} -m hub.cli publish extracts/{a}.csv --mapping mappings/{a}.toml "
            f"--place place.toml --key place-key.toml --kafka {kafka.bootstrap} "
            f"--client-config {enrolled / f'{a}.properties'} --no-wait"
            for a in half
        )
        env = {**os.environ, "HUB_DATA_DIR": str(agencies_dir / "no-hub-here")}
        env.pop("HUB_KAFKA_CLIENT_CONFIG", None)
        with (out / f"publisher-{n}.out").open("wb") as sink:
            started.append(
                subprocess.Popen(
                    ["bash", "-c", script], cwd=agencies_dir, env=env, stdout=sink, stderr=sink
                )
            )
    return started


def expected_events(agencies_dir: Path, place: Place) -> dict[str, int]:
    """How many events each agency's connector makes of its extract (what it publishes)."""
    pseudonymiser = load_pseudonymiser(agencies_dir / "place-key.toml")
    counts = {}
    for agency in place.agencies:
        mapping = load_mapping(agencies_dir / "mappings" / f"{agency.slug}.toml", place)
        connector = CsvConnector(mapping, place, pseudonymiser)
        extract = agencies_dir / "extracts" / f"{agency.slug}.csv"
        counts[agency.slug] = sum(len(batch.events) for batch in connector.read(extract))
    return counts


def gateway(settings: Settings, out: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings_env(settings), "PYTHONFAULTHANDLER": "1"}
    with out.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "gateway", "--instance", "killed"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )


def place_for(settings: Settings, agencies_dir: Path) -> Place:
    """The hub's copy of the place file in its data folder (it holds nothing else of theirs)."""
    settings.folder.place_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(agencies_dir / "place.toml", settings.folder.place)
    return load_place(settings.folder.place)


def test_sigkilled_gateways_lose_and_double_nothing(
    settings_for: Callable[[str, str], Settings], kafka: KafkaService, tmp_path: Path
) -> None:
    seed = int(os.environ.get("HUB_KILL_SEED", time.time_ns() % 1_000_000))
    print(f"kill seed {seed} (set HUB_KILL_SEED={seed} to replay)")
    rng = random.Random(seed)
    killed, clean = settings_for("kafka", "postgres"), settings_for("kafka", "sqlite")
    connection = kafka.connection
    agencies_dir, enrolled = tmp_path / "agencies", tmp_path / "enrolled"
    synthesise(agencies_dir, people=PEOPLE, seed=3, start=DEMO_START)
    new_key_file(agencies_dir / "place-key.toml")
    place = place_for(killed, agencies_dir)
    place_for(clean, agencies_dir)
    slugs = [a.slug for a in place.agencies]
    with Broker(connection) as broker:
        broker.setup(place, killed)
        for slug in slugs:
            broker.revoke(slug)  # a broker kept from an earlier run may have them enrolled
            broker.enrol(place, slug, enrolled)
    inbound_start = inbound_ends(connection, slugs)
    for settings in (killed, clean):
        start_group_at_end(connection, settings.gateway_group, slugs)
    receipts_start = {a: receipts_end(connection, a) for a in slugs}
    watch = ReceiptEnds(connection, slugs)
    at_start = sum(watch.ends().values())

    def committed() -> int:
        """Offsets the receipts topics have gained (receipts and transaction markers)."""
        return sum(watch.ends().values()) - at_start

    began = time.monotonic()
    publishing = publishers(agencies_dir, enrolled, kafka, slugs, tmp_path)
    out, kills = tmp_path / "gateway.out", []
    process: subprocess.Popen[bytes] | None = None
    try:
        for _ in range(KILLS):
            before = committed()
            process = gateway(killed, out)
            try:
                wait_until(lambda b=before: committed() > b, 120, "a committed transaction")
            except AssertionError:
                process.send_signal(signal.SIGABRT)  # its threads' stacks, into the output
                process.wait(30)
                raise AssertionError(out.read_text()[-6000:]) from None
            time.sleep(rng.uniform(0.0, 0.6))
            assert process.poll() is None, out.read_text()[-3000:]
            process.send_signal(signal.SIGKILL)
            process.wait(30)
            kills.append(committed())
        for publisher in publishing:
            publisher.wait(600)
    finally:
        for child in [*publishing, *([process] if process else [])]:
            if child.poll() is None:
                child.kill()
                child.wait(30)
    killing = time.monotonic()
    published = {a: n - inbound_start[a] for a, n in inbound_ends(connection, slugs).items()}
    assert published == expected_events(agencies_dir, place), [
        (tmp_path / f"publisher-{n}.out").read_text()[-3000:] for n in (0, 1)
    ]
    total = sum(published.values())
    assert total >= 100_000
    assert kills[-1] < total, "the gateway finished before the last kill: too few events"
    last = gateway(killed, out)
    try:
        for agency in slugs:
            start, count = receipts_start[agency], published[agency]
            assert len(read_receipts(connection, agency, start, count, timeout_s=600)) == count
    finally:
        last.send_signal(signal.SIGTERM)
        assert last.wait(60) == 0, out.read_text()[-3000:]
    watch.close()
    for agency in slugs:  # every receipt exactly once, every event accepted
        with ReceiptReader(connection, agency) as reader:
            receipts = list(reader.read(receipts_start[agency]))
        ids = Counter(receipt.id for receipt in receipts)
        assert len(receipts) == published[agency], agency
        assert set(ids.values()) == {1}, agency
        assert {receipt.status for receipt in receipts} == {"accepted"}, agency
    with gateway_running(clean, "uninterrupted") as reference:
        wait_until(lambda: reference.events >= total, 600, "the uninterrupted run")
    finished = time.monotonic()
    print(
        f"{total:,} events; receipts committed at each kill: {kills}; "
        f"publish and kills {killing - began:.0f} s, the rest {finished - killing:.0f} s"
    )
    outputs = [_applied(settings, total) for settings in (killed, clean)]
    assert outputs[0] == outputs[1]


def _applied(settings: Settings, total: int) -> tuple[object, ...]:
    """The settings' log (each event exactly once), applied: its journeys and answers."""
    with open_hub(settings) as hub:
        entries = [e for p in range(hub.log.partitions) for e in hub.log.scan(p)]
        events = Counter(
            (orjson.loads(e.value)["source"], orjson.loads(e.value)["id"]) for e in entries
        )
        assert len(events) == total
        assert set(events.values()) == {1}
        assert hub.worker.run_until_caught_up() == total
        assert hub.worker.lag() == 0
        assert hub.worker.rejections == 0
        persons = sorted({e.key for e in entries})
        journeys = {p: j.applied for p, j in hub.app.journeys_of(persons).items()}
        return journeys, answers(hub.app, load_place(settings.folder.place))
