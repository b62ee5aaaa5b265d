"""Benchmark: the hub on its production path (agencies publishing as themselves, the gateway, a
worker, PostgreSQL) against raw kafka-python on the same secured broker, raw COPY and
eventsourcing.

Prints, in one run, on the same events (every agency's extract of one synthetic place):
  (a) the hub end to end: each agency's own `hub publish EXTRACT ... --client-config
      <its enrolled file> --no-wait` (the place's agencies enrolled afresh into the run's
      folder; their twelve processes in two streams at once, each stream's in turn), one
      `hub gateway` (inbound topics -> ingest -> the log and one receipt per event, a Kafka
      transaction per polled batch), one `hub worker` (the log, read_committed, -> the
      PostgreSQL store) and the projections, timed from the first publish until the
      projections are caught up; its stages (publishing; then the gateway's group committing
      past the last inbound offset; then the worker's positions reaching the log's end; then the
      projections' last catch-up: they run all along in the lag probe's process); the CPU
      seconds of each process and of the whole machine meanwhile; and the lag from publish to
      queryable (`bench/kafka_lag.py`: about once a second while publishing, to the log, to the
      store, to queryable; target <= 2 s);
  (b) raw kafka-python: the same messages (the connectors' output in binary content mode,
      `to_binary`, as `hub publish` sends them: the same count and sizes) produced from as many
      processes at once as (a) has streams, with the agency publisher's settings (acks=all,
      idempotent), then consumed in one process; the produce rate, the consume rate and the
      combined rate (events / (produce time + consume time)); and TLS's cost on the client side:
      the share of each process's CPU time spent in the SSL socket's recv and send (at most
      TLS's share), and that less what a plain socket's same calls cost (at least TLS's share;
      `bench/kafka_tls.py` says how, and why a wrapper and not cProfile);
  (c) the transaction's cost: a raw consume-transform-produce loop over (b)'s messages in
      batches of the gateway's 2,000, its producer's settings, without transactions (send,
      flush, commit the offsets) and with (begin, send, send_offsets_to_transaction, commit);
  (d) raw PostgreSQL `COPY` (psycopg 3, binary) of as many rows of the log entries' size;
  (e) eventsourcing's own bare save on PostgreSQL, 100 aggregates a transaction;
then the targets beside their baselines: (a) >= 2,161 events/s (the last figure, unsecured, on
1,030,782 events) and (a) / (b) combined >= 0.25; and (a)/(e), (a)/(d), (c)'s ratio.

Needs the secured broker (`KAFKA_BOOTSTRAP_SERVERS` and the hub principal's client
configuration `KAFKA_CLIENT_CONFIG=<run>/hub.properties`, as `bash deploy/kafka/kafka.sh start`
prints them; `HUB_KAFKA_RUN` too, to count the broker's CPU) and PostgreSQL (eventsourcing's
`POSTGRES_*`, from `bash deploy/postgres/postgres.sh start`). The inbound topics are the
place's own, shared with whoever else uses the broker: (a) counts what its publishers added to
them (their end offsets, after less before); its receipts stay on the receipts topics. Every
run makes its own log topics, consumer groups and PostgreSQL schemas (`bench.<run>...`) and
removes them at the end (its transactional ids expire on the broker's own time), and revokes the
agencies it enrolled where none was enrolled before (`--keep` keeps it all, the run's folder
too); the synthetic place is kept in `--workdir`. `--profile DIR` runs the gateway and the
worker under cProfile (their figures are then the profiled ones).

    python bench/ingest_kafka.py                  # 1,000,000 events
    python bench/ingest_kafka.py --events 200000  # the figures in docs/scaling.md
    python bench/ingest_kafka.py --events 30000   # a quicker look
"""

import argparse
import math
import os
import resource
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kafka.record.util import crc32c_c

from bench.kafka_env import on_stop_signal, remove, services
from bench.kafka_hub import HubRun, hub_end_to_end
from bench.kafka_raw import Raw, consume_transform_produce, raw_kafka
from bench.kafka_tls import SslShare
from bench.pg_raw import bare_eventsourcing, raw_copy
from connectors.synth import synthesise
from hub.enrolment.broker import Broker
from hub.log import DEFAULT_PARTITIONS
from schemas.place import load_place

EVENTS_PER_PERSON = 4.2  # the default synthetic place: 84,538 events for 20,000 people
LAST_UNSECURED = 2161  # events/s, the hub end to end on 1,030,782 events before TLS and SCRAM
TARGET_OF_RAW = 0.25


def run_names(tag: str) -> dict[str, dict[str, str]]:
    """Everything the run makes on the broker and in PostgreSQL, named once."""
    return {
        "hub": {
            "topic": f"bench.{tag}.hub",
            "rejected": f"bench.{tag}.hub.rejected",
            "group": f"bench-{tag}-worker",
            "gateway_group": f"bench-{tag}-gateway",
            "instance": f"bench-{tag}",
            "schema": f"bench_{tag}_hub",
        },
        "raw": {"topic": f"bench.{tag}.raw", "schema": f"bench_{tag}_raw"},
        "ctp": {
            "plain_topic": f"bench.{tag}.ctp-plain",
            "txn_topic": f"bench.{tag}.ctp-txn",
            "plain_group": f"bench-{tag}-ctp-plain",
            "txn_group": f"bench-{tag}-ctp-txn",
            "txn_id": f"bench-{tag}-ctp",
        },
        "bare": {"schema": f"bench_{tag}_bare"},
    }


def lag_lines(run: HubRun) -> list[str]:
    lags = run.lags
    if not lags.queryable:
        return ["  (a) publish to queryable          : no sample (publishing took under a second)"]
    median = statistics.median
    return [
        f"  (a) publish to queryable          : median {median(lags.queryable):6.2f} s, max "
        f"{max(lags.queryable):6.2f} s   (target <= 2 s; {len(lags.queryable)} probes)",
        f"      of which, until in the log    : median {median(lags.gateway):6.2f} s, max "
        f"{max(lags.gateway):6.2f} s   (the gateway's transaction committed)",
        f"      of which, until in the store  : median {median(lags.store):6.2f} s, max "
        f"{max(lags.store):6.2f} s",
    ]


def cpu_lines(run: HubRun) -> list[str]:
    """(a)'s stages, and the CPU seconds of each process in each (the rest of the machine:
    whatever else ran on it, other users' work included)."""
    cpu = dict(run.cpu)
    machine = cpu.pop("machine (every core)")
    rest = [m - sum(c[i] for c in cpu.values()) for i, m in enumerate(machine)]
    order = ["publishers", "gateway", "worker", "broker", "PostgreSQL", "projections"]
    rows = [(name, cpu[name]) for name in order if name in cpu]
    rows += [(name, cpu[name]) for name in cpu if name not in order]
    rows += [("the rest of the machine", rest), ("machine (2 cores: 2 s a second)", machine)]
    walls = list(run.stages.values())
    heads = "".join(f"{h:>9}" for h in ("publish", "gateway", "worker", "project.", "all"))
    lines = [f"  (a) {stage:30}: {sec:8.1f} s" for stage, sec in run.stages.items()]
    each = run.decided / max(1, run.transactions)
    lines.append(
        f"  (a) the gateway's transactions    : {run.transactions:8,}   ({each:,.0f} events each)"
    )
    lines.append(f"  (a) CPU seconds, by stage         {heads}   cores  ms/event")
    lines.append(
        f"      {'wall-clock seconds':29}"
        + "".join(f"{w:9.1f}" for w in walls)
        + f"{sum(walls):9.1f}"
    )
    for name, secs in rows:
        line = "".join(f"{x:9.1f}" for x in secs) + f"{sum(secs):9.1f}"
        per_event = 1000 * sum(secs) / max(1, run.events)
        lines.append(f"      {name:29}{line}   {sum(secs) / sum(walls):5.2f}  {per_event:8.2f}")
    return lines


def tls_line(label: str, share: SslShare | None) -> str:
    if share is None:
        return f"  {label}: not measured"
    return (
        f"  {label}: {share.cpu:6.1f} CPU s, {share.fraction:5.1%} in the SSL socket's "
        f"recv/send (TLS's share at most), {share.tls_fraction:5.1%} less a plain socket's "
        "cost (at least)"
    )


def report(run: HubRun, raw: Raw, plain: float, txn: float, copy: float, bare: float) -> None:
    n, size = run.events, run.key_size + run.value_size
    produce, consume, combined = raw.rates()
    mean = raw.producers[0].size / max(1, raw.producers[0].count)
    crc = "C" if crc32c_c is not None else "pure Python (`pip install crc32c` for C)"
    lines = [
        f"\n{n:,} events from {len(run.streams)} publisher streams of "
        f"{' + '.join(str(len(s)) for s in run.streams)} agencies; inbound messages of "
        f"{mean:,.0f} bytes (key, value and headers), log entries of {size:,} (key "
        f"{run.key_size}, value {run.value_size}); {DEFAULT_PARTITIONS} partitions a topic; "
        f"SASL_SSL SCRAM-SHA-512 throughout; kafka-python's CRC-32C: {crc}",
        f"  (a) hub end to end                : {run.rate:10,.0f} events/s",
        f"  (b) raw produce, {len(raw.producers)} processes      : {produce:10,.0f} messages/s "
        "(acks=all, idempotent)",
        f"      raw consume, 1 process        : {consume:10,.0f} messages/s",
        f"      raw produce + consume         : {combined:10,.0f} messages/s",
        f"  (c) consume-transform-produce     : {plain:10,.0f} messages/s without transactions",
        f"      the same, in transactions     : {txn:10,.0f} messages/s   with/without: "
        f"{txn / plain:.3f}",
        f"  (d) raw PostgreSQL COPY           : {copy:10,.0f} rows/s",
        f"  (e) eventsourcing bare save (PG)  : {bare:10,.0f} events/s",
        f"  TARGET (a) >= {LAST_UNSECURED:,} events/s          : {run.rate:10,.0f}   ratio "
        f"{run.rate / LAST_UNSECURED:.3f}   ({'met' if run.rate >= LAST_UNSECURED else 'NOT met'})",
        f"  TARGET (a) / (b) combined >= {TARGET_OF_RAW} : {run.rate / combined:10.3f}   "
        f"({'met' if run.rate / combined >= TARGET_OF_RAW else 'NOT met'})",
        f"  (a)/(b) produce, (a)/(b) consume  : {run.rate / produce:10.3f} "
        f"{run.rate / consume:8.3f}",
        f"  (a)/(e), (a)/(d)                  : {run.rate / bare:10.3f} {run.rate / copy:8.3f}",
    ]
    lines += cpu_lines(run)
    lines += lag_lines(run)
    lines += [tls_line(f"(b) producer {i + 1}", p.ssl) for i, p in enumerate(raw.producers)]
    lines.append(tls_line("(b) consumer  ", raw.consumer.ssl))
    checks = {
        "the publishers said they sent": run.sent,
        "the gateway decided": run.decided,
        "the gateway accepted": run.accepted,
        "the worker applied": run.applied,
        "facts in the projections": run.facts,
        "raw produced": raw.events,
        "raw consumed": raw.consumer.count,
    }
    wrong = {what: count for what, count in checks.items() if count != n}
    if wrong or run.rejected:
        said = [f"{what} {count:,}" for what, count in wrong.items()]
        said += [f"the worker rejected {run.rejected:,}"] if run.rejected else []
        lines.append(f"  CHECK: {n:,} put on the inbound topics, but " + ", ".join(said))
    if run.refused:
        lines.append(f"  ({run.refused:,} rows refused by the agencies' connectors, in (b) too)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    lines.append(
        f"  peak resident memory: benchmark {peak:,.0f} MiB, largest child {children:,.0f}"
    )
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="events (default 1,000,000)")
    parser.add_argument(
        "--workdir", type=Path, default=ROOT / "bench-data", help="kept synthetic places"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the run's topics, groups, PostgreSQL schemas and agencies' enrolment",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="run the gateway and the worker under cProfile, writing gateway.prof and "
        "worker.prof into this folder (their figures are then the profiled ones)",
    )
    args = parser.parse_args()
    if args.profile:
        args.profile = args.profile.resolve()
        args.profile.mkdir(parents=True, exist_ok=True)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_stop_signal)
    connection, pg = services()

    people = math.ceil(args.events / EVENTS_PER_PERSON)
    place_dir = args.workdir / f"ingest-place-{people}"
    if not (place_dir / "truth" / "events.jsonl").exists():
        print(f"synthesising {people:,} people into {place_dir} ...", flush=True)
        synthesise(place_dir, people=people, seed=2)
    place = load_place(place_dir / "place.toml")
    names = run_names(f"{time.strftime('%Y%m%d%H%M%S')}{os.getpid()}")
    args.workdir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="bench-kafka-", dir=args.workdir))
    fresh: list[str] = []
    bootstrap = connection.bootstrap
    try:
        print("(a) the hub end to end: publishers, gateway, worker, projections ...", flush=True)
        run = hub_end_to_end(
            place_dir, place, scratch, connection, pg, names["hub"], fresh, args.profile
        )
        n = run.events
        print(f"(b) raw kafka-python produce + consume of {n:,} messages ...", flush=True)
        key_file = scratch / "agencies" / "place-key.toml"
        raw = raw_kafka(bootstrap, names["raw"]["topic"], place_dir, key_file, run.streams)
        print(
            f"(c) consume-transform-produce of {n:,}, without and with transactions ...", flush=True
        )
        plain, txn = consume_transform_produce(bootstrap, names["raw"]["topic"], n, names["ctp"])
        print(f"(d) raw PostgreSQL COPY of {n:,} rows ...", flush=True)
        copy = raw_copy(pg, names["raw"]["schema"], n, run.value_size)
        print(f"(e) eventsourcing bare save on PostgreSQL of {n:,} events ...", flush=True)
        bare = bare_eventsourcing(pg, names["bare"]["schema"], n)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
            hub, ctp = names["hub"], names["ctp"]
            topics = [hub["topic"], hub["rejected"], names["raw"]["topic"]]
            topics += [ctp["plain_topic"], ctp["txn_topic"]]
            groups = [hub["group"], hub["gateway_group"], ctp["plain_group"], ctp["txn_group"]]
            schemas = [hub["schema"], names["raw"]["schema"], names["bare"]["schema"]]
            remove(connection, pg, topics, groups, schemas)
            if fresh:
                with Broker(connection) as broker:
                    for agency in fresh:
                        broker.revoke(agency)
    report(run, raw, plain.rate, txn.rate, copy, bare)
    if args.profile:
        print(f"  (a)'s gateway and worker ran under cProfile: {args.profile}/*.prof")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("interrupted: processes stopped, the run's topics, groups and schemas removed")
        sys.exit(130)
