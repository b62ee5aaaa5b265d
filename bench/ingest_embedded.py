"""Benchmark: the hub end to end on the embedded default, against raw SQLite and eventsourcing.

Prints, in one run, on the same number of events:
  (a) raw `sqlite3.executemany` of that many rows (about 600 bytes each, 10,000 a transaction);
  (b) eventsourcing's own bare save of that many events, 100 aggregates a transaction;
  (c) the hub: extract -> connector -> ingest -> log -> worker -> store -> projections up to date;
then the rates, (c)/(a) and (c)/(b) (target (c)/(a) >= 0.10), the time of each stage of (c),
and the peak memory of the run.

    python bench/ingest_embedded.py                  # 1,000,000 events
    python bench/ingest_embedded.py --events 100000  # a quicker look
"""

import argparse
import math
import os
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from connectors.pseudonym import load_pseudonymiser, new_key_file
from connectors.synth import synthesise
from hub.bootstrap import open_hub, open_projections
from hub.demo.agencies import AgenciesFolder
from hub.demo.run import publish_extract
from hub.settings import Settings
from schemas.place import load_place

EVENTS_PER_PERSON = 4.2  # the default synthetic place: 84,538 events for 20,000 people
PAYLOAD = {"need": "housing", "urgency": "routine", "to_agency": "urn:agency:homes", "x": "y" * 400}


def raw_sqlite(folder: Path, n: int) -> float:
    """(a): rows of (id, ~600-byte payload) by executemany, 10,000 a transaction."""
    db = sqlite3.connect(folder / "raw.sqlite", isolation_level=None)
    db.execute("pragma journal_mode=wal")
    db.execute("pragma synchronous=full")
    db.execute("create table events (id integer primary key, payload blob)")
    payload = os.urandom(600)
    start = time.perf_counter()
    for first in range(0, n, 10_000):
        db.execute("begin")
        db.executemany(
            "insert into events values (?, ?)",
            ((i, payload) for i in range(first, min(n, first + 10_000))),
        )
        db.execute("commit")
    db.close()
    return n / (time.perf_counter() - start)


class Bare(Aggregate):
    @event("Noted")
    def note(self, payload: dict[str, str]) -> None:
        pass


def bare_eventsourcing(folder: Path, n: int) -> float:
    """(b): eventsourcing's own save, 100 new aggregates a transaction, 10 events each."""
    app: Application = Application(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "bare.db")}
    )
    start = time.perf_counter()
    saved = 0
    while saved < n:
        aggregates = []
        for _ in range(100):
            aggregate = Bare()
            for _ in range(9):
                aggregate.note(PAYLOAD)
            aggregates.append(aggregate)
        app.save(*aggregates)
        saved += 1000
    return saved / (time.perf_counter() - start)


def hub_end_to_end(place_dir: Path, data_dir: Path) -> tuple[float, int, dict[str, float]]:
    """(c): every extract through connector, ingest, log, worker, store and projections (the
    place key beside the data folder, never in it: it is the agencies')."""
    place = load_place(place_dir / "place.toml")
    key_file = data_dir.parent / "place-key.toml"
    data_dir.mkdir(parents=True)
    new_key_file(key_file)
    pseudonymiser = load_pseudonymiser(key_file)
    agencies = AgenciesFolder(place_dir)
    stages: dict[str, float] = {}
    start = time.perf_counter()
    with open_hub(Settings(data_dir=data_dir)) as hub:
        for agency in place.agencies:
            publish_extract(
                hub, place, agencies, agency.slug, agency.sector, pseudonymiser, lambda n: None
            )
        stages["connectors + ingest + log"] = time.perf_counter() - start
        applied = hub.worker.run_until_caught_up()
        stages["worker -> store"] = time.perf_counter() - start - sum(stages.values())
        with open_projections(hub, place) as projections:
            projections.catch_up()
        stages["projections"] = time.perf_counter() - start - sum(stages.values())
    return applied / (time.perf_counter() - start), applied, stages


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="events (default 1,000,000)")
    parser.add_argument(
        "--workdir", type=Path, default=ROOT / "bench-data", help="kept synthetic places"
    )
    args = parser.parse_args()

    people = math.ceil(args.events / EVENTS_PER_PERSON)
    place_dir = args.workdir / f"ingest-place-{people}"
    if not (place_dir / "truth" / "events.jsonl").exists():
        print(f"synthesising {people:,} people into {place_dir} ...", flush=True)
        synthesise(place_dir, people=people, seed=2)
    scratch = Path(tempfile.mkdtemp(prefix="bench-ingest-", dir=args.workdir))
    try:
        print("(c) the hub end to end ...", flush=True)
        hub_rate, n, stages = hub_end_to_end(place_dir, scratch / "hub-data")
        print(f"(a) raw sqlite3.executemany of {n:,} rows ...", flush=True)
        raw_rate = raw_sqlite(scratch, n)
        print(f"(b) eventsourcing bare save of {n:,} events ...", flush=True)
        bare_rate = bare_eventsourcing(scratch, n)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{n:,} events")
    print(f"  (a) raw sqlite3.executemany      : {raw_rate:12,.0f} rows/s")
    print(f"  (b) eventsourcing bare save      : {bare_rate:12,.0f} events/s")
    print(f"  (c) hub end to end               : {hub_rate:12,.0f} events/s")
    print(f"  (c)/(a)                          : {hub_rate / raw_rate:12.3f}   (target >= 0.10)")
    print(f"  (c)/(b)                          : {hub_rate / bare_rate:12.3f}")
    for stage, seconds in stages.items():
        print(f"  stage {stage:27}: {seconds:9.1f} s")
    print(f"  peak resident memory             : {peak:9.0f} MiB   (target <= 2048 MiB)")


if __name__ == "__main__":
    main()
