"""The kill tests' phases: agency publisher processes, `hub gateway` and `hub worker` processes
started and SIGKILLed at seeded random moments, and what is counted while they run.

How a kill moment is chosen: after each start, wait until the process has done some work (a
gateway: the receipts topics' ends move, a transaction committed; a worker: the store's
positions move, a batch saved), then a random time (seeded by the test) and kill. So every kill
lands while batches are being read, decided or applied, and saved, at a random point within
or between them.
"""

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from connectors.csv_connector import CsvConnector
from connectors.mapping import load_mapping
from connectors.pseudonym import load_pseudonymiser
from hub.log.kafka import KafkaLog
from hub.settings import Settings
from hub.store.application import Hub
from hub.worker.worker import tracking_name
from schemas.place import Place, load_place
from tests.conftest import KafkaService
from tests.integration.conftest import settings_env

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


def place_for(settings: Settings, agencies_dir: Path) -> Place:
    """The hub's copy of the place file in its data folder (it holds nothing else of theirs)."""
    settings.folder.place_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(agencies_dir / "place.toml", settings.folder.place)
    return load_place(settings.folder.place)


def hub_process(settings: Settings, out: Path, *args: str) -> subprocess.Popen[bytes]:
    """`hub ARGS` with the settings, its output (and, on SIGABRT, its threads' stacks) to
    `out`."""
    env = {**os.environ, **settings_env(settings), "PYTHONFAULTHANDLER": "1"}
    with out.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "hub.cli", *args],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )


def kill_repeatedly(
    start: Callable[[], subprocess.Popen[bytes]],
    progress: Callable[[], int],
    kills: int,
    rng: random.Random,
    most_s: float,
    out: Path,
) -> list[int]:
    """Start a process `kills` times, each time wait until `progress()` moves, then a random
    0..`most_s` seconds, and SIGKILL it; `progress()` after each kill."""
    at_kills = []
    for _ in range(kills):
        before = progress()
        process = start()
        try:
            wait_until(lambda b=before: progress() > b, 120, "the process to make progress")
            time.sleep(rng.uniform(0.0, most_s))
            assert process.poll() is None, out.read_text()[-3000:]
        except AssertionError:
            if process.poll() is None:
                process.send_signal(signal.SIGABRT)  # its threads' stacks, into the output
                process.wait(30)
            raise AssertionError(out.read_text()[-6000:]) from None
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
            process.wait(30)
        at_kills.append(progress())
    return at_kills


def applied(app: Hub, log: KafkaLog) -> int:
    """The sum of the store's positions in the log's partitions."""
    return sum(
        app.process_recorder.max_tracking_id(tracking_name(log, p)) or 0
        for p in range(log.partitions)
    )
