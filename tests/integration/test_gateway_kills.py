"""The production path, SIGKILLed again and again, loses and doubles nothing.

A synthetic place of more than 100,000 events is published by two agency publisher processes
at once (`hub publish --kafka`, each agency as its own principal, from the agencies' folder
alone). Meanwhile `hub gateway` (its duplicate set and record keys in PostgreSQL) is killed at
20 seeded random moments and started again under the same instance name each time; then
`hub worker` (storing in PostgreSQL) is killed at 12 random moments while it applies that log.

- Every event is in the log exactly once (read committed), and every event has exactly one
  receipt, all accepted.
- The killed workers' store equals, byte for byte, a store an uninterrupted worker makes of the
  same log, and so do all seven answers.
- The store and every answer equal an uninterrupted gateway's run of the same inbound records:
  the same journeys holding the same events (each person's agency events by source, id and
  record version) and the same full output of all seven questions. Here the stored bytes cannot
  be equal: the hub's record time is the gateway's clock, every seal has a fresh nonce, and
  each store's record keys are its own.

The seed is printed; `HUB_KILL_SEED` replays a run (`tests.integration.kill_phases` says how a
moment is chosen).
"""

import os
import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from connectors.pseudonym import new_key_file
from connectors.synth import synthesise
from hub.bootstrap import open_hub, open_store, record_keys_of
from hub.demo.run import DEMO_START
from hub.enrolment.broker import Broker
from hub.log.kafka import KafkaLog
from hub.log.receipts import ReceiptReader
from hub.settings import Settings
from hub.store.application import Hub
from hub.worker.worker import Worker
from schemas.place import Place, load_place
from tests.conftest import KafkaService
from tests.integration.conftest import answers, journeys, stored
from tests.integration.gateway_runs import (
    ReceiptEnds,
    gateway_running,
    inbound_ends,
    read_receipts,
    receipts_end,
    start_group_at_end,
)
from tests.integration.kill_phases import (
    applied,
    expected_events,
    hub_process,
    kill_repeatedly,
    place_for,
    publishers,
    wait_until,
)

GATEWAY_KILLS, WORKER_KILLS = 20, 12
PEOPLE = 24_500  # about 106,000 events


def test_sigkilled_gateways_and_workers_lose_and_double_nothing(
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

    began = time.monotonic()
    publishing = publishers(agencies_dir, enrolled, kafka, slugs, tmp_path)
    out = tmp_path / "gateway.out"
    try:
        gateway_kills = kill_repeatedly(
            lambda: hub_process(killed, out, "gateway", "--instance", "killed"),
            lambda: sum(watch.ends().values()),  # receipts and transaction markers
            GATEWAY_KILLS,
            rng,
            2.0,
            out,
        )
        for publisher in publishing:
            publisher.wait(600)
    finally:
        for publisher in publishing:
            if publisher.poll() is None:
                publisher.kill()
        watch.close()
    published = {a: n - inbound_start[a] for a, n in inbound_ends(connection, slugs).items()}
    assert published == expected_events(agencies_dir, place), [
        (tmp_path / f"publisher-{n}.out").read_text()[-3000:] for n in (0, 1)
    ]
    total = sum(published.values())
    assert total >= 100_000
    last = hub_process(killed, out, "gateway", "--instance", "killed")
    try:
        for agency in slugs:
            start, count = receipts_start[agency], published[agency]
            assert len(read_receipts(connection, agency, start, count, timeout_s=600)) == count
    finally:
        last.send_signal(signal.SIGTERM)
        assert last.wait(60) == 0, out.read_text()[-3000:]
    for agency in slugs:  # every receipt exactly once, every event accepted
        with ReceiptReader(connection, agency) as reader:
            receipts = list(reader.read(receipts_start[agency]))
        assert len(receipts) == published[agency], agency
        assert set(Counter(receipt.id for receipt in receipts).values()) == {1}, agency
        assert {receipt.status for receipt in receipts} == {"accepted"}, agency
    gateways_done = time.monotonic()

    worker_kills, by_worker = workers_killed(killed, place, total, rng, tmp_path)
    workers_done = time.monotonic()
    with gateway_running(clean, "uninterrupted") as reference:
        wait_until(lambda: reference.events >= total, 600, "the uninterrupted run")
    print(
        f"{total:,} events; receipts topics' ends at each gateway kill: {gateway_kills}; "
        f"positions at each worker kill: {worker_kills}; publish and gateway kills "
        f"{gateways_done - began:.0f} s, worker kills {workers_done - gateways_done:.0f} s, "
        f"the uninterrupted run {time.monotonic() - workers_done:.0f} s"
    )
    reference_journeys, reference_answers = applied_once(clean, total)
    killed_journeys, killed_answers = by_worker
    assert killed_journeys == reference_journeys
    for slug, rows in reference_answers.items():
        mine = killed_answers[slug]
        assert mine == rows, (slug, _differing(mine, rows))


def _differing(mine: list[dict[str, object]], theirs: list[dict[str, object]]) -> object:
    """Rows one answer has and the other has not (the first few each way)."""
    ours = {orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for r in mine}
    others = {orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for r in theirs}
    return sorted(ours - others)[:5], sorted(others - ours)[:5], len(mine), len(theirs)


def workers_killed(
    settings: Settings, place: Place, total: int, rng: random.Random, tmp_path: Path
) -> tuple[list[int], tuple[dict[str, Any], dict[str, Any]]]:
    """`hub worker` killed again and again while it applies the settings' log (each event in it
    exactly once) into their store, then run to the end; the store and its answers must equal,
    byte for byte, what an uninterrupted worker makes of the same log. The positions at each
    kill, and the store's journeys and answers as `applied_once` gives them."""
    assert settings.kafka is not None
    log = KafkaLog(settings.kafka, settings.topic)
    store = open_store(settings)
    out = tmp_path / "worker.out"
    try:
        entries = [e for p in range(log.partitions) for e in log.scan(p)]
        events = Counter(
            (orjson.loads(e.value)["source"], orjson.loads(e.value)["id"]) for e in entries
        )
        assert len(events) == total
        assert set(events.values()) == {1}
        end = sum(log.end_offsets().values())  # the offsets of transaction markers too
        kills = kill_repeatedly(
            lambda: hub_process(settings, out, "worker"),
            lambda: applied(store, log),
            WORKER_KILLS,
            rng,
            1.2,
            out,
        )
        assert kills == sorted(kills)
        assert kills[-1] < end, "the worker finished before the last kill: too few events"
        final = hub_process(settings, out, "worker", "--until-caught-up")
        assert final.wait(600) == 0, out.read_text()[-3000:]
        assert applied(store, log) == end
        clean = Hub(
            env={
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(tmp_path / "clean.db"),
            }
        )
        try:  # the same log, read straight through; payloads opened with the killed store's keys
            assert Worker(clean, log, batch_size=1000).run_until_caught_up() == total
            assert journeys(stored(store)) == journeys(stored(clean))  # nothing lost or doubled
            assert answers(store, place) == answers(clean, place, record_keys_of(store))
        finally:
            clean.close()
    finally:
        store.close()
        log.close()
    return kills, applied_once(settings, total)


def applied_once(settings: Settings, total: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The settings' log (each event exactly once), applied to the end: each person's events
    (by source and id, with their record versions) and the full answers."""
    with open_hub(settings) as hub:
        entries = [e for p in range(hub.log.partitions) for e in hub.log.scan(p)]
        events = Counter(
            (orjson.loads(e.value)["source"], orjson.loads(e.value)["id"]) for e in entries
        )
        assert len(events) == total
        assert set(events.values()) == {1}
        hub.worker.run_until_caught_up()
        assert hub.worker.lag() == 0
        assert hub.worker.rejections == 0
        persons = sorted({e.key for e in entries})
        found = {p: j.applied for p, j in hub.app.journeys_of(persons).items()}
        assert sum(len(applied) for applied in found.values()) == total
        return found, answers(hub.app, load_place(settings.folder.place))
