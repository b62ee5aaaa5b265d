"""The hub end to end on its production path, for `bench/ingest_kafka.py`: agencies' own
`hub publish` processes (two streams at once), one `hub gateway`, one `hub worker` on a
PostgreSQL store, and the projections (with the lag probe, `bench.kafka_lag`).

    run = hub_end_to_end(place_dir, place, scratch, connection, pg, names, fresh)

Every agency of the place is enrolled into the run's folder (revoked first where enrolled
already: the broker holds one credential an agency; those enrolled afresh are added to `fresh`,
for the caller to revoke). The gateway's new group is given the current end of every inbound
topic first (a new group would start at their earliest offsets, and the inbound topics are
shared with whoever else uses the broker). Then the worker and the gateway are started and
waited for, and the clock runs from the first publish until the projections are caught up.
"""

import os
import re
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from bench.kafka_env import (
    ASKED_TO_STOP,
    CLIENT_CONFIG,
    Child,
    CpuMeter,
    broker_pid,
    check_stop,
    postmaster_pid,
    start,
)
from bench.kafka_lag import Lags, lag_sampler
from bench.kafka_setup import (
    enrol_all,
    partitions,
    start_group_at_end,
    streams_of,
    wait_for_group,
    wait_for_line,
)
from connectors.pseudonym import new_key_file
from hub.bootstrap import open_hub, open_projections
from hub.log.kafka_client import KafkaConnection
from hub.settings import Settings, inbound_topic
from schemas.place import Place

SUMMARY = re.compile(
    r"\): ([\d,]+) refused at the agency, [\d,]+ accepted, [\d,]+ duplicate, [\d,]+ rejected"
    r"(?:, ([\d,]+) not answered yet)?;"
)
STOPPED = {
    "worker": re.compile(r"worker stopped: applied ([\d,]+), ([\d,]+) rejected"),
    "gateway": re.compile(
        r"gateway stopped: decided ([\d,]+) events \(([\d,]+) accepted\) in ([\d,]+) transactions"
    ),
}


def number(text: str | None) -> int:
    return int(text.replace(",", "")) if text else 0


@dataclass
class HubRun:
    """What the hub's run measured."""

    streams: list[list[str]]
    events: int = 0  # what the run put on the inbound topics (their end offsets, after - before)
    sent: int = 0  # what the publishers said they sent
    refused: int = 0  # rows the agencies' connectors refused
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    decided: int = 0
    transactions: int = 0
    accepted: int = 0
    applied: int = 0
    rejected: int = 0
    facts: int = 0
    lags: Lags = field(default_factory=Lags)
    key_size: int = 0
    value_size: int = 0
    cpu: dict[str, list[float]] = field(default_factory=dict)
    """CPU seconds of each process (and PostgreSQL, the rest of the machine) in each stage."""

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def publish_all(run: HubRun, folder: Path, check: Callable[[], None]) -> list[Child]:
    """Every agency's extract by `hub publish ... --no-wait`, as the agency (its own client
    file, no hub setting in its environment), the streams at once and each stream's agencies in
    turn; `check` is called while they run. The publishers, reaped (their CPU time noted)."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(folder), "COLUMNS": "500"}
    command = [sys.executable, "-m", "hub.cli", "publish", "--place", str(folder / "place.toml")]
    command += ["--key", str(folder / "place-key.toml"), "--no-wait", "--client-config"]
    children: list[Child] = []
    failures: list[BaseException] = []

    def stream(agencies: list[str]) -> None:
        try:
            for slug in agencies:
                if ASKED_TO_STOP.is_set() or failures:
                    return
                args = [str(folder / "enrolled" / f"{slug}.properties")]
                args += [str(folder / "extracts" / f"{slug}.csv")]
                args += ["--mapping", str(folder / "mappings" / f"{slug}.toml")]
                child = start([*command, *args], env, folder / f"publish-{slug}.out", folder)
                children.append(child)
                code = child.reap(3600)
                if code not in (0, 1) or SUMMARY.search(child.output()) is None:  # 1: refusals
                    raise RuntimeError(f"hub publish {slug} ended with {code}:\n{child.output()}")
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=stream, args=(s,), daemon=True) for s in run.streams]
    for thread in threads:
        thread.start()
    try:
        while any(thread.is_alive() for thread in threads) and not failures:
            check()
            time.sleep(0.1)
    finally:
        for child in children:
            if child.running():
                child.process.kill()
        for thread in threads:
            thread.join()
    if failures:
        raise failures[0]
    for child in children:
        found = SUMMARY.search(child.output())
        assert found is not None
        run.refused, run.sent = run.refused + number(found[1]), run.sent + number(found[2])
    return children


def hub_settings(
    data_dir: Path, connection: KafkaConnection, pg: dict[str, str], names: dict[str, str]
) -> tuple[Settings, dict[str, str]]:
    """The run's settings, and the same as the environment of its `hub` processes."""
    postgres = {**pg, "POSTGRES_SCHEMA": names["schema"]}
    settings = Settings(
        data_dir=data_dir,
        kafka_bootstrap=connection.bootstrap,
        kafka_client_config=CLIENT_CONFIG,
        topic=names["topic"],
        rejected_topic=names["rejected"],
        worker_group=names["group"],
        gateway_group=names["gateway_group"],
        store="postgres",
        postgres=postgres,
    )
    env = {
        **os.environ,
        "HUB_DATA_DIR": str(data_dir),
        "HUB_KAFKA_BOOTSTRAP": connection.bootstrap,
        "HUB_KAFKA_CLIENT_CONFIG": str(CLIENT_CONFIG),
        "HUB_TOPIC": names["topic"],
        "HUB_REJECTED_TOPIC": names["rejected"],
        "HUB_WORKER_GROUP": names["group"],
        "HUB_GATEWAY_GROUP": names["gateway_group"],
        "HUB_STORE": "postgres",
        "COLUMNS": "200",
        **postgres,
    }
    return settings, env


def agency_folder(place_dir: Path, folder: Path) -> Path:
    """What the agencies hold: the place file, their extracts and mappings, a fresh place key
    (so the events were never sent before) and, once enrolled, their client files."""
    folder.mkdir()
    for part in ("extracts", "mappings", "place.toml"):
        (folder / part).symlink_to(place_dir / part)
    new_key_file(folder / "place-key.toml")
    return folder


def hub_end_to_end(
    place_dir: Path,
    place: Place,
    scratch: Path,
    connection: KafkaConnection,
    pg: dict[str, str],
    names: dict[str, str],
    fresh: list[str],
    profile: Path | None = None,
) -> HubRun:
    """See the module docstring; with `profile`, the gateway and the worker run under cProfile,
    writing `gateway.prof` and `worker.prof` there as they stop."""
    data_dir = scratch / "hub"
    data_dir.mkdir(parents=True)
    folder = agency_folder(place_dir, scratch / "agencies")
    settings, env = hub_settings(data_dir, connection, pg, names)
    run = HubRun(streams_of(place_dir, place))
    enrol_all(connection, place, settings, folder / "enrolled", fresh)
    hub_cli, group = [sys.executable, "-m", "hub.cli"], names["gateway_group"]

    def hub_command(what: str) -> list[str]:
        if profile is None:
            return [*hub_cli, what]
        return [
            sys.executable,
            "-m",
            "cProfile",
            "-o",
            str(profile / f"{what}.prof"),
            *hub_cli[1:],
            what,
        ]

    with ExitStack() as stack:
        admin = stack.enter_context(KafkaAdminClient(**connection.options()))
        ends_of = KafkaConsumer(**connection.options(), group_id=None, enable_auto_commit=False)
        stack.callback(ends_of.close)
        tps = partitions(ends_of, [inbound_topic(a) for a in sorted(place.agency_slugs)])

        def inbound_ends() -> dict[TopicPartition, int]:
            return {tp: int(end) for tp, end in ends_of.end_offsets(tps).items()}

        hub = stack.enter_context(open_hub(settings))  # topics, schema and tables made here
        worker = start(hub_command("worker"), env, data_dir / "worker.out")
        stack.callback(worker.stop)
        wait_for_line(worker, "worker in group", "hub worker")  # opened the store: one at a time
        wait_for_group(admin, names["group"], settings.partitions, [worker], "hub worker")
        start_group_at_end(connection, group, sorted(place.agency_slugs))
        gateway_cmd = [*hub_command("gateway"), "--instance", names["instance"]]
        gateway = start(gateway_cmd, env, data_dir / "gateway.out")
        stack.callback(gateway.stop)
        wait_for_line(gateway, "gateway hub-gateway.", "hub gateway")
        wait_for_group(admin, group, len(tps), [gateway], "hub gateway")
        inbound = [(tp.topic, tp.partition) for tp in tps]
        sampler = lag_sampler(settings, place_dir / "place.toml", inbound, group)
        publishing, finish, sampler_pid = stack.enter_context(sampler)
        named: dict[str, int | None] = {"gateway": gateway.process.pid}
        named |= {"worker": worker.process.pid}
        named |= {"projections": sampler_pid, "broker": broker_pid()}
        meter = CpuMeter(named, postmaster_pid(pg))

        def check() -> None:
            check_stop()
            gateway.check("hub gateway")
            worker.check("hub worker")

        def stage(name: str) -> None:
            run.stages[name] = time.perf_counter() - began - sum(run.stages.values())
            samples.append(meter.sample())

        before, samples = inbound_ends(), [meter.sample()]
        publishing.set()
        began = time.perf_counter()
        publishers = publish_all(run, folder, check)
        stage("publish (two streams at once)")
        publishing.clear()
        after = inbound_ends()
        run.events = sum(after[tp] - before[tp] for tp in tps)
        while True:
            check()
            done = admin.list_group_offsets({group: tps})[group]
            if all(tp in done and done[tp].offset >= after[tp] for tp in tps):
                break
            time.sleep(0.1)
        stage("gateway caught up, after")
        while hub.worker.lag():
            check()
            time.sleep(0.05)
        stage("worker caught up, after")
        run.lags = finish()
        with open_projections(hub, place) as projections:
            projections.catch_up()
            stage("projections done, after")
            run.seconds = time.perf_counter() - began
            counted = projections.con.execute("select count(*) from facts").fetchone()
            run.facts = int(counted[0]) if counted else 0
        samples[-1]["projections"] = run.lags.cpu  # its whole life's, as it ended
        run.cpu = {name: [b[name] - a[name] for a, b in pairwise(samples)] for name in samples[0]}
        run.cpu["publishers"] = [sum(child.cpu for child in publishers), 0.0, 0.0, 0.0]
        entries = [e for p in range(hub.log.partitions) for e in hub.log.read(p, 0, 500)]
        run.key_size = round(sum(len(e.key.encode()) for e in entries) / max(1, len(entries)))
        run.value_size = round(sum(len(e.value) for e in entries) / max(1, len(entries)))
        for child, what in ((gateway, "gateway"), (worker, "worker")):
            code = child.stop()
            found = STOPPED[what].search(child.output())
            if code != 0 or found is None:
                raise RuntimeError(f"hub {what} ended with {code}:\n{child.output()[-3000:]}")
            if what == "gateway":
                run.decided, run.accepted = number(found[1]), number(found[2])
                run.transactions = number(found[3])
            else:
                run.applied, run.rejected = number(found[1]), number(found[2])
    return run
