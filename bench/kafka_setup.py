"""The broker's side of `bench/kafka_hub.py`'s run: the agencies enrolled, the gateway's group
started at the end of every inbound topic, waiting for a `hub` process and its group.

    enrol_all(connection, place, settings, folder / "enrolled", fresh)
    start_group_at_end(connection, "bench-...-gateway", agencies)
    wait_for_group(admin, "bench-...-gateway", least=72, children=[gateway], what="hub gateway")
"""

import re
import time
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from bench.kafka_env import Child, check_stop
from hub.enrolment.broker import Broker
from hub.gateway.messages import INBOUND_PATTERN
from hub.log.kafka_client import KafkaConnection
from hub.settings import Settings, inbound_topic
from schemas.place import Place


def streams_of(place_dir: Path, place: Place, count: int = 2) -> list[list[str]]:
    """The place's agencies in `count` streams of about equal extract sizes, largest first."""
    sizes = {
        a.slug: (place_dir / "extracts" / f"{a.slug}.csv").stat().st_size for a in place.agencies
    }
    streams: list[list[str]] = [[] for _ in range(count)]
    loads = [0] * count
    for slug in sorted(sizes, key=lambda s: -sizes[s]):
        lightest = loads.index(min(loads))
        streams[lightest].append(slug)
        loads[lightest] += sizes[slug]
    return streams


def enrol_all(
    connection: KafkaConnection, place: Place, settings: Settings, out: Path, fresh: list[str]
) -> None:
    """The place's topics and ACLs (`hub kafka setup`), each agency enrolled into `out`."""
    with Broker(connection) as broker:
        broker.setup(place, settings)
        enrolled = {row.agency for row in broker.agencies(place) if row.enrolled}
        for agency in sorted(place.agency_slugs):
            broker.revoke(agency)
            if agency not in enrolled:
                fresh.append(agency)
            broker.enrol(place, agency, out)


def partitions(consumer: KafkaConsumer, topics: list[str]) -> list[TopicPartition]:
    found = []
    for topic in topics:
        deadline = time.monotonic() + 30
        while not (ps := consumer.partitions_for_topic(topic)):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{topic} has no partitions")
            time.sleep(0.2)
        found += [TopicPartition(topic, p) for p in sorted(ps)]
    return found


def start_group_at_end(connection: KafkaConnection, group: str, agencies: list[str]) -> None:
    """Commit, for `group`, the end of every partition of every inbound topic there is: its
    gateway reads only what is published from now on."""
    consumer = KafkaConsumer(**connection.options(), group_id=group, enable_auto_commit=False)
    try:
        topics = {t for t in consumer.topics() if re.match(INBOUND_PATTERN, t)}
        tps = partitions(consumer, sorted(topics | {inbound_topic(a) for a in agencies}))
        ends = consumer.end_offsets(tps)
        consumer.assign(tps)
        consumer.commit({tp: OffsetAndMetadata(ends[tp], "", -1) for tp in tps})
    finally:
        consumer.close()


def wait_for_group(
    admin: KafkaAdminClient, group: str, least: int, children: list[Child], what: str
) -> None:
    """Until the group is stable, one member holding at least `least` partitions."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        check_stop()
        for child in children:
            child.check(what)
        found = admin.describe_groups([group]).get(group, {})
        joined = found.get("members") or []
        held = sum(
            len(a.get("partitions") or [])
            for m in joined
            for a in (m.get("member_assignment") or {}).get("assigned_partitions") or []
        )
        if found.get("group_state") == "Stable" and len(joined) == 1 and held >= least:
            return
        time.sleep(0.2)
    raise RuntimeError(f"the {what}'s group {group} did not settle in 120 s")


def wait_for_line(child: Child, text: str, what: str) -> None:
    deadline = time.monotonic() + 120
    while text not in child.output():
        check_stop()
        child.check(what)
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} (pid {child.process.pid}) did not start in 120 s")
        time.sleep(0.1)
