"""Benchmark: the hub on Kafka and PostgreSQL, against raw Kafka, raw COPY and eventsourcing.

Prints, in one run, on the same number of events:
  (a) raw kafka-python: that many messages the size of the hub's log entries (measured in (d))
      produced to a fresh 6-partition topic with acks=all (the hub's producer settings), then
      consumed; the produce rate, the consume rate and the combined rate
      (events / (produce time + consume time));
  (b) raw PostgreSQL `COPY` (psycopg 3, binary) of that many rows (id, payload bytea) into a
      fresh table, 10,000 rows a transaction;
  (c) eventsourcing's own bare save on PostgreSQL, 100 aggregates a transaction;
  (d) the hub end to end with one `hub worker` process applying the log while the extracts are
      published: extract -> connector -> ingest -> Kafka -> worker -> PostgreSQL store ->
      projections up to date, timed from the first publish to the last catch-up; and its
      stages: publishing, then the worker catching up, then the projections' last catch-up
      (they are caught up all along by the process of (f), so only what remained);
  (e) the same with two `hub worker` processes in one consumer group, and what each applied
      (from the "worker stopped: applied N" each prints on SIGTERM);
  (f) during (d) and (e), the lag from publish to queryable: about once a second while
      publishing, a probe notes the log's end offsets; it is done when the store's positions
      have reached them (its "store" lag) and a projections catch-up begun after that has
      finished (its lag). The projections run in a process of their own, as beside a live hub;
then (d)/(c) (target >= 0.5), (d) itself (target >= 10,000 events/s), (e)/(d), the median and
maximum lag (target <= 2 s), and the peak memory of the benchmark and of its largest child.
Whether kafka-python has its C CRC-32C (the `crc32c` package) is printed too: without it every
record batch is checksummed in pure Python, which bounds every Kafka figure here.

Needs a Kafka broker (`KAFKA_BOOTSTRAP_SERVERS`, and on the secured broker the hub's client
configuration `KAFKA_CLIENT_CONFIG=<run>/hub.properties`) and PostgreSQL (eventsourcing's
`POSTGRES_*`): `bash deploy/kafka/kafka.sh start` and `bash deploy/postgres/postgres.sh start`
print them.
Every run makes its own topics, consumer groups and PostgreSQL schemas (`bench_<run>_...`) and
removes them at the end (`--keep` keeps them); the synthetic place is kept in `--workdir`.

    python bench/ingest_kafka.py                 # 1,000,000 events
    python bench/ingest_kafka.py --events 30000  # a quicker look
"""

import argparse
import contextlib
import math
import multiprocessing
import multiprocessing.queues
import multiprocessing.synchronize
import os
import queue
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError
from kafka.record.util import crc32c_c
from psycopg import sql

from connectors.pseudonym import load_pseudonymiser, new_key_file
from connectors.synth import synthesise
from hub.bootstrap import open_hub, open_projections, postgres_connect
from hub.demo.agencies import AgenciesFolder
from hub.demo.run import publish_extract
from hub.log import DEFAULT_PARTITIONS
from hub.log.kafka import KafkaLog
from hub.log.kafka_client import KafkaConnection
from hub.settings import Settings
from schemas.errors import HubError
from schemas.place import Place, load_place

_CONFIG = os.environ.get("KAFKA_CLIENT_CONFIG")
CLIENT_CONFIG = Path(_CONFIG) if _CONFIG else None
"""The hub principal's client configuration on a secured broker (`<run>/hub.properties`)."""
EVENTS_PER_PERSON = 4.2  # the default synthetic place: 84,538 events for 20,000 people
PAYLOAD = {"need": "housing", "urgency": "routine", "to_agency": "urn:agency:homes", "x": "y" * 400}
COPY_BATCH = 10_000
STOPPED = re.compile(r"worker stopped: applied ([\d,]+), ([\d,]+) rejected")
Event = multiprocessing.synchronize.Event
ASKED_TO_STOP = threading.Event()
"""Set on Ctrl-C or SIGTERM: kafka-python's network code catches BaseException, so the
KeyboardInterrupt raised inside it can be lost; the loops here check this too."""


def on_stop_signal(signum: int, frame: object) -> None:
    ASKED_TO_STOP.set()
    raise KeyboardInterrupt


def check_stop(_: int = 0) -> None:
    """Raise KeyboardInterrupt if asked to stop (also a progress callback for publishing)."""
    if ASKED_TO_STOP.is_set():
        raise KeyboardInterrupt


def create_schema(pg: dict[str, str], schema: str) -> None:
    with postgres_connect(pg) as con:
        con.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


def raw_kafka(
    connection: KafkaConnection, topic: str, n: int, key_size: int, value_size: int
) -> list[float]:
    """(a): n messages produced (acks=all, explicit partitions as the hub's log sends them),
    then consumed from the start; [produce rate, consume rate, combined rate]."""
    KafkaLog(connection, topic, DEFAULT_PARTITIONS).close()  # a fresh topic, metadata ready
    key, value = b"k" * key_size, os.urandom(value_size)
    failed: list[BaseException] = []
    producer = KafkaProducer(**connection.options(), acks="all", retries=10, linger_ms=5)
    try:
        start = time.perf_counter()
        for i in range(n):
            if i % 10_000 == 0:
                check_stop()
            future = producer.send(topic, key=key, value=value, partition=i % DEFAULT_PARTITIONS)
            future.add_errback(failed.append)
        producer.flush()
        produce = time.perf_counter() - start
    finally:
        producer.close()
    if failed:
        raise RuntimeError(f"raw produce: {len(failed):,} sends failed, first: {failed[0]}")
    consumer = KafkaConsumer(**connection.options(), group_id=None, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in range(DEFAULT_PARTITIONS)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        start = time.perf_counter()
        got = 0
        while got < n:
            check_stop()
            polled = consumer.poll(timeout_ms=30_000, max_records=1000)
            if not polled:
                raise RuntimeError(f"raw consume: nothing came for 30 s after {got:,} messages")
            got += sum(len(messages) for messages in polled.values())
        consume = time.perf_counter() - start
    finally:
        consumer.close()
    return [n / produce, n / consume, n / (produce + consume)]


def raw_copy(pg: dict[str, str], schema: str, n: int, size: int) -> float:
    """(b): rows of (id, payload bytea) by binary COPY, 10,000 a transaction."""
    create_schema(pg, schema)
    table = sql.Identifier(schema, "events")
    payload = os.urandom(size)
    with postgres_connect(pg) as con:
        con.execute(sql.SQL("CREATE TABLE {} (id bigint primary key, payload bytea)").format(table))
        copy_sql = sql.SQL("COPY {} (id, payload) FROM STDIN (FORMAT BINARY)").format(table)
        start = time.perf_counter()
        with con.cursor() as cursor:
            for first in range(0, n, COPY_BATCH):
                with con.transaction(), cursor.copy(copy_sql) as copy:
                    copy.set_types(["int8", "bytea"])
                    for i in range(first, min(n, first + COPY_BATCH)):
                        copy.write_row((i, payload))
        return n / (time.perf_counter() - start)


class Bare(Aggregate):
    @event("Noted")
    def note(self, payload: dict[str, str]) -> None:
        pass


def bare_eventsourcing(pg: dict[str, str], schema: str, n: int) -> float:
    """(c): eventsourcing's own save on PostgreSQL, 100 new aggregates a transaction, 10
    events each."""
    create_schema(pg, schema)
    env = {"PERSISTENCE_MODULE": "eventsourcing.postgres", **pg, "POSTGRES_SCHEMA": schema}
    app: Application[UUID] = Application(env=env)
    try:
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
    finally:
        app.close()


@dataclass
class HubRun:
    """What (d) or (e) measured."""

    events: int = 0
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    applied: list[int] = field(default_factory=list)
    rejected: int = 0
    facts: int = 0
    store_lags: list[float] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    key_size: int = 0
    value_size: int = 0

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def sample_lag(
    settings_json: str,
    place_path: str,
    ready: Event,
    publishing: Event,
    stop: Event,
    out: "multiprocessing.queues.Queue[tuple[Any, ...]]",
) -> None:
    """(f), in a process of its own: the projections kept up to date, and the lag from publish
    to queryable; puts ("ok", store lags, lags) or ("error", traceback) on `out`.

    About once a second while publishing goes on, a probe notes the time and the log's end
    offsets; a probe is done when the store's positions have reached its offsets (its store
    lag) and a projections catch-up begun after that has finished (its lag). Probes overlap, so
    a slow worker gives late probes, not fewer."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the benchmark stops it (Ctrl-C included)
    try:
        settings = Settings.model_validate_json(settings_json)
        store_lags: list[float] = []
        lags: list[float] = []
        with open_hub(settings) as hub, open_projections(hub, load_place(Path(place_path))) as proj:
            ready.set()
            pending: list[tuple[float, dict[int, int]]] = []
            next_probe = 0.0
            while True:
                stopping = stop.is_set()  # set once the worker has caught up
                now = time.monotonic()
                if publishing.is_set() and now >= next_probe:
                    pending.append((now, hub.log.end_offsets()))
                    next_probe = now + 1.0
                reached: list[float] = []
                if pending:
                    at = {p: hub.worker.next_offset(p) for p in range(hub.log.partitions)}
                    reached = [
                        t0 for t0, ends in pending if all(at[p] >= e for p, e in ends.items())
                    ]
                stored = time.monotonic()
                if reached or not pending:
                    proj.catch_up()
                done = time.monotonic()
                store_lags += [stored - t0 for t0 in reached]
                lags += [done - t0 for t0 in reached]
                pending = [probe for probe in pending if probe[0] not in reached]
                if stopping:
                    break
                if not reached:
                    stop.wait(0.05)
            proj.catch_up()
        out.put(("ok", store_lags, lags))
    except BaseException:
        out.put(("error", traceback.format_exc()))
        raise


def worker_output(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def check_alive(workers: list[tuple[subprocess.Popen[bytes], Path]]) -> None:
    for process, out in workers:
        if process.poll() is not None:
            raise RuntimeError(
                f"hub worker (pid {process.pid}) exited with {process.returncode}:\n"
                + worker_output(out)[-3000:]
            )


def wait_for_open(process: subprocess.Popen[bytes], out: Path) -> None:
    """Until a `hub worker` has opened the store: eventsourcing's PostgreSQL recorder runs
    `CREATE OR REPLACE FUNCTION` as it opens, and two processes doing so at once can fail
    ("tuple concurrently updated"), so the workers are started one after another."""
    deadline = time.monotonic() + 120
    while "worker in group" not in worker_output(out):
        check_stop()
        check_alive([(process, out)])
        if time.monotonic() > deadline:
            raise RuntimeError(f"hub worker (pid {process.pid}) did not start in 120 s")
        time.sleep(0.1)


def wait_for_group(
    connection: KafkaConnection,
    group: str,
    members: int,
    workers: list[tuple[subprocess.Popen[bytes], Path]],
) -> None:
    """Until the consumer group is stable with `members` members sharing every partition."""
    admin = KafkaAdminClient(**connection.options())
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            check_stop()
            check_alive(workers)
            found = admin.describe_groups([group]).get(group, {})
            joined = found.get("members") or []
            partitions = sum(
                len(a.get("partitions") or [])
                for m in joined
                for a in (m.get("member_assignment") or {}).get("assigned_partitions") or []
            )
            if (
                found.get("group_state") == "Stable"
                and len(joined) == members
                and partitions == DEFAULT_PARTITIONS
            ):
                return
            time.sleep(0.2)
        raise RuntimeError(f"group {group} did not settle with {members} workers in 120 s")
    finally:
        admin.close()


def stop_workers(workers: list[tuple[subprocess.Popen[bytes], Path]]) -> None:
    """SIGTERM each worker (it saves the batch in hand and leaves), then wait; kill if stuck."""
    for process, _ in workers:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process, _ in workers:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def lag_sampler(
    settings: Settings, place_path: Path
) -> Iterator[tuple[Event, Callable[[], tuple[list[float], list[float]]]]]:
    """The projections process of (f): yields (publishing, finish); `finish()` stops it once
    its last catch-up is done and returns (store lags, lags)."""
    context = multiprocessing.get_context("spawn")  # no fork of a process with Kafka's threads
    ready, publishing, stop = context.Event(), context.Event(), context.Event()
    out: multiprocessing.queues.Queue[tuple[Any, ...]] = context.Queue()
    process = context.Process(
        target=sample_lag,
        args=(settings.model_dump_json(), str(place_path), ready, publishing, stop, out),
        name="projections",
    )
    process.start()

    def result(timeout_s: float) -> tuple[Any, ...]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                got: tuple[Any, ...] = out.get(timeout=0.2)
                if got[0] == "error":
                    raise RuntimeError(f"the projections process failed:\n{got[1]}")
                return got
            if not process.is_alive() and out.empty():
                raise RuntimeError(f"the projections process exited with {process.exitcode}")
        raise RuntimeError(f"the projections process gave no result in {timeout_s:.0f} s")

    def finish() -> tuple[list[float], list[float]]:
        stop.set()
        _, store_lags, lags = result(3600)
        process.join()
        return store_lags, lags

    try:
        while not ready.wait(0.2):
            if not process.is_alive():
                result(5)  # raises with its traceback
        yield publishing, finish
    finally:
        stop.set()
        process.join(timeout=60)
        if process.is_alive():
            process.terminate()
            process.join()


def hub_end_to_end(
    place_dir: Path,
    place: Place,
    data_dir: Path,
    connection: KafkaConnection,
    pg: dict[str, str],
    names: dict[str, str],
    workers: int,
) -> HubRun:
    """(d) or (e): every extract published while `workers` `hub worker` processes apply the log
    to a PostgreSQL store; then the projections brought up to date."""
    data_dir.mkdir(parents=True)
    key_file = data_dir.parent / f"{data_dir.name}-place-key.toml"  # the agencies': not the hub's
    new_key_file(key_file)
    pseudonymiser = load_pseudonymiser(key_file)
    postgres = {**pg, "POSTGRES_SCHEMA": names["schema"]}
    settings = Settings(
        data_dir=data_dir,
        kafka_bootstrap=connection.bootstrap,
        kafka_client_config=CLIENT_CONFIG,
        topic=names["topic"],
        rejected_topic=names["rejected"],
        worker_group=names["group"],
        store="postgres",
        postgres=postgres,
    )
    env = {
        **os.environ,
        "HUB_DATA_DIR": str(data_dir),
        "HUB_KAFKA_BOOTSTRAP": connection.bootstrap,
        **({"HUB_KAFKA_CLIENT_CONFIG": str(CLIENT_CONFIG)} if CLIENT_CONFIG else {}),
        "HUB_TOPIC": names["topic"],
        "HUB_REJECTED_TOPIC": names["rejected"],
        "HUB_WORKER_GROUP": names["group"],
        "HUB_STORE": "postgres",
        "COLUMNS": "200",
        **postgres,
    }
    run = HubRun()
    started: list[tuple[subprocess.Popen[bytes], Path]] = []
    with ExitStack() as stack:
        hub = stack.enter_context(open_hub(settings))  # topics, schema and tables made here
        stack.callback(stop_workers, started)
        for index in range(workers):
            out = data_dir / f"worker-{index}.out"
            with out.open("wb") as sink:
                process = subprocess.Popen(
                    [sys.executable, "-m", "hub.cli", "worker"],
                    cwd=ROOT,
                    env=env,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                )
            started.append((process, out))
            wait_for_open(process, out)
        wait_for_group(connection, names["group"], workers, started)
        publishing, finish = stack.enter_context(lag_sampler(settings, place_dir / "place.toml"))

        publishing.set()
        start = time.perf_counter()
        for agency in place.agencies:
            published = publish_extract(
                hub,
                place,
                AgenciesFolder(place_dir),
                agency.slug,
                agency.sector,
                pseudonymiser,
                check_stop,
            )
            run.events += published.accepted
        publishing.clear()
        run.stages["publish (every extract)"] = time.perf_counter() - start
        while hub.worker.lag():
            check_stop()
            check_alive(started)
            time.sleep(0.05)
        run.stages["worker caught up, after"] = (
            time.perf_counter() - start - sum(run.stages.values())
        )
        run.store_lags, run.lags = finish()
        with open_projections(hub, place) as projections:
            projections.catch_up()
            run.seconds = time.perf_counter() - start
            run.stages["projections done, after"] = run.seconds - sum(run.stages.values())
            counted = projections.con.execute("select count(*) from facts").fetchone()
            run.facts = int(counted[0]) if counted else 0

        ends = hub.log.end_offsets()
        if sum(ends.values()) != run.events:
            raise RuntimeError(f"the log holds {sum(ends.values()):,}, not {run.events:,}")
        entries = [e for p in range(hub.log.partitions) for e in hub.log.read(p, 0, 500)]
        run.key_size = round(statistics.mean(len(e.key.encode()) for e in entries))
        run.value_size = round(statistics.mean(len(e.value) for e in entries))
        stop_workers(started)
    for process, out in started:
        text = worker_output(out)
        found = STOPPED.search(text)
        if process.returncode != 0 or found is None:
            raise RuntimeError(f"hub worker ended with {process.returncode}:\n{text[-3000:]}")
        run.applied.append(int(found[1].replace(",", "")))
        run.rejected += int(found[2].replace(",", ""))
    return run


def services() -> tuple[KafkaConnection, dict[str, str]]:
    """The connection to Kafka (KAFKA_BOOTSTRAP_SERVERS, with the hub's client configuration
    KAFKA_CLIENT_CONFIG on a secured broker) and eventsourcing's POSTGRES_* settings, or
    exit 2 saying what is missing."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
    pg = {
        k: v for k, v in os.environ.items() if k.startswith("POSTGRES_") and k != "POSTGRES_SCHEMA"
    }
    problems = []
    if not bootstrap:
        problems.append(
            "KAFKA_BOOTSTRAP_SERVERS is not set: start a broker with "
            "`bash deploy/kafka/kafka.sh start` and export the address it prints"
        )
    missing = [k for k in ("POSTGRES_HOST", "POSTGRES_DBNAME", "POSTGRES_USER") if not pg.get(k)]
    if missing:
        problems.append(
            f"{', '.join(missing)} not set: start PostgreSQL with "
            "`bash deploy/postgres/postgres.sh start` and export the POSTGRES_* it prints "
            "(`set -a; . <run>/env; set +a`)"
        )
    if not problems:
        try:
            connection = kafka_connection(bootstrap)
            KafkaAdminClient(**connection.options(), bootstrap_timeout_ms=10_000).close()
        except (KafkaError, HubError) as error:
            problems.append(f"cannot reach Kafka at {bootstrap} ({error}): is the broker up?")
        try:
            postgres_connect(pg).close()
        except psycopg.Error as error:
            problems.append(f"cannot reach PostgreSQL ({str(error).strip()}): is it up?")
    if problems:
        print(
            "error: this benchmark needs a Kafka broker and PostgreSQL; " + "; ".join(problems),
            file=sys.stderr,
            flush=True,
        )
        os._exit(2)  # nothing made yet; a failed Kafka client's thread would hold up the exit
    return kafka_connection(bootstrap), pg


def kafka_connection(bootstrap: str) -> KafkaConnection:
    """The connection the environment gives (the client configuration's TLS and SCRAM)."""
    if CLIENT_CONFIG is None:
        return KafkaConnection(bootstrap)
    return KafkaConnection.from_file(CLIENT_CONFIG, bootstrap)


def remove(
    connection: KafkaConnection,
    pg: dict[str, str],
    topics: list[str],
    groups: list[str],
    schemas: list[str],
) -> None:
    """Drop the run's PostgreSQL schemas and delete its topics and groups (what exists)."""
    try:
        with postgres_connect(pg) as con:
            for schema in schemas:
                con.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )
    except psycopg.Error as error:
        print(f"could not drop the schemas {', '.join(schemas)}: {error}", file=sys.stderr)
    try:
        admin = KafkaAdminClient(**connection.options())
        try:
            existing = set(admin.list_topics())
            admin.delete_topics([t for t in topics if t in existing], raise_errors=False)
            with contextlib.suppress(KafkaError):
                admin.delete_groups(groups)
        finally:
            admin.close()
    except KafkaError as error:
        print(f"could not delete the topics {', '.join(topics)}: {error}", file=sys.stderr)


def lag_lines(label: str, run: HubRun) -> list[str]:
    if not run.lags:
        return [f"  {label:35}: no sample (publishing took under a second)"]
    median, store = statistics.median, run.store_lags
    return [
        f"  {label:35}: median {median(run.lags):5.2f} s, max {max(run.lags):5.2f} s   "
        f"(target <= 2 s; {len(run.lags)} samples)",
        f"      {'of which, until the store had it':31}: median {median(store):5.2f} s, "
        f"max {max(store):5.2f} s",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="events (default 1,000,000)")
    parser.add_argument(
        "--workdir", type=Path, default=ROOT / "bench-data", help="kept synthetic places"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the run's topics and PostgreSQL schemas"
    )
    args = parser.parse_args()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_stop_signal)
    connection, pg = services()

    people = math.ceil(args.events / EVENTS_PER_PERSON)
    place_dir = args.workdir / f"ingest-place-{people}"
    if not (place_dir / "truth" / "events.jsonl").exists():
        print(f"synthesising {people:,} people into {place_dir} ...", flush=True)
        synthesise(place_dir, people=people, seed=2)
    place = load_place(place_dir / "place.toml")
    tag = f"{time.strftime('%Y%m%d%H%M%S')}{os.getpid()}"
    names = {
        label: {
            "topic": f"bench.{tag}.{label}",
            "rejected": f"bench.{tag}.{label}.rejected",
            "group": f"bench-{tag}-{label}",
            "schema": f"bench_{tag}_{label}",
        }
        for label in ("one", "two", "raw", "bare")
    }
    args.workdir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="bench-kafka-", dir=args.workdir))
    try:
        print("(d) the hub end to end, one worker process ...", flush=True)
        one = hub_end_to_end(place_dir, place, scratch / "one", connection, pg, names["one"], 1)
        n = one.events
        print("(e) the hub end to end, two worker processes ...", flush=True)
        two = hub_end_to_end(place_dir, place, scratch / "two", connection, pg, names["two"], 2)
        size = one.key_size + one.value_size
        print(f"(a) raw kafka-python produce + consume of {n:,} messages ...", flush=True)
        produce, consume, kafka = raw_kafka(
            connection, names["raw"]["topic"], n, one.key_size, one.value_size
        )
        print(f"(b) raw PostgreSQL COPY of {n:,} rows ...", flush=True)
        copy = raw_copy(pg, names["raw"]["schema"], n, one.value_size)
        print(f"(c) eventsourcing bare save on PostgreSQL of {n:,} events ...", flush=True)
        bare = bare_eventsourcing(pg, names["bare"]["schema"], n)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if not args.keep:
            labels = names.values()
            remove(
                connection,
                pg,
                [t for x in labels for t in (x["topic"], x["rejected"])],
                [x["group"] for x in labels],
                [x["schema"] for x in labels],
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    crc = "C" if crc32c_c is not None else "pure Python (`pip install crc32c` for C)"
    lines = [
        f"\n{n:,} events; log entries of {size:,} bytes (key {one.key_size}, value "
        f"{one.value_size}), {DEFAULT_PARTITIONS} partitions;\n  kafka-python's CRC-32C: {crc}",
        f"  (a) raw kafka-python produce        : {produce:12,.0f} messages/s   (acks=all)",
        f"      raw kafka-python consume        : {consume:12,.0f} messages/s",
        f"      raw produce + consume           : {kafka:12,.0f} messages/s",
        f"  (b) raw PostgreSQL COPY             : {copy:12,.0f} rows/s",
        f"  (c) eventsourcing bare save (PG)    : {bare:12,.0f} events/s",
        f"  (d) hub end to end, 1 worker        : {one.rate:12,.0f} events/s   (target >= 10,000)",
        f"  (e) hub end to end, 2 workers       : {two.rate:12,.0f} events/s",
        f"  (d)/(c)                             : {one.rate / bare:12.3f}   (target >= 0.5)",
        f"  (d)/(a) produce + consume           : {one.rate / kafka:12.3f}",
        f"  (d)/(b)                             : {one.rate / copy:12.3f}",
        f"  (e)/(d)                             : {two.rate / one.rate:12.3f}",
        f"  (e)/(c)                             : {two.rate / bare:12.3f}",
    ]
    for label, run in (("(d)", one), ("(e)", two)):
        lines += [f"  {label} {stage:32}: {sec:9.1f} s" for stage, sec in run.stages.items()]
    lines.append(
        f"  (e) applied by each worker          : {' + '.join(f'{a:,}' for a in two.applied)}"
    )
    lines += lag_lines("(f) publish to queryable, during (d)", one)
    lines += lag_lines("    publish to queryable, during (e)", two)
    for label, run in (("(d)", one), ("(e)", two)):
        if run.rejected or run.facts != run.events or sum(run.applied) != run.events:
            lines.append(
                f"  {label} CHECK: {run.events:,} published, {sum(run.applied):,} applied, "
                f"{run.rejected:,} rejected, {run.facts:,} facts in the projections"
            )
    lines += [
        f"  peak resident memory, benchmark     : {peak:9.0f} MiB",
        f"  peak resident memory, largest child : {children:9.0f} MiB   (a worker or projections)",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("interrupted: workers stopped, the run's folders, topics and schemas removed")
        sys.exit(130)
