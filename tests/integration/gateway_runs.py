"""What the gateway's tests share: a gateway group that starts where the inbound topics end now
(the session's broker keeps every earlier test's inbound records), receipts read back
read_committed, and the gateway run in a thread until a condition holds."""

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import orjson
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from hub.bootstrap import open_gateway
from hub.gateway import Gateway
from hub.gateway.messages import INBOUND_PATTERN
from hub.log.kafka_client import KafkaConnection
from hub.settings import Settings, inbound_topic, receipts_topic


def start_group_at_end(connection: KafkaConnection, group: str, agencies: Sequence[str]) -> None:
    """Commit, for `group`, the current end of every partition of every inbound topic there is
    (a gateway reads them all) and of the agencies' (waiting for any just made): a gateway of
    that group reads only what is published from now on."""
    consumer = KafkaConsumer(**connection.options(), group_id=group, enable_auto_commit=False)
    try:
        topics = {t for t in consumer.topics() if re.match(INBOUND_PATTERN, t)}
        topics |= {inbound_topic(agency) for agency in agencies}
        tps = [tp for topic in sorted(topics) for tp in _partitions(consumer, topic)]
        ends = consumer.end_offsets(tps)
        consumer.assign(tps)
        consumer.commit({tp: OffsetAndMetadata(ends[tp], "", -1) for tp in tps})
    finally:
        consumer.close()


def inbound_ends(connection: KafkaConnection, agencies: Sequence[str]) -> dict[str, int]:
    """Each agency's inbound topic's end offsets, summed over its partitions (as the hub)."""
    consumer = KafkaConsumer(**connection.options(), isolation_level="read_committed")
    try:
        found = {}
        for agency in agencies:
            tps = _partitions(consumer, inbound_topic(agency))
            found[agency] = sum(int(n) for n in consumer.end_offsets(tps).values())
        return found
    finally:
        consumer.close()


def _partitions(consumer: KafkaConsumer, topic: str) -> list[TopicPartition]:
    """The topic's partitions, once the client's metadata knows them (a topic just made takes
    a moment to appear)."""
    deadline = time.monotonic() + 30
    while not (partitions := consumer.partitions_for_topic(topic)):
        assert time.monotonic() < deadline, f"{topic} has no partitions"
        time.sleep(0.2)
    return [TopicPartition(topic, p) for p in sorted(partitions)]


class ReceiptEnds:
    """The receipts topics' end offsets, on one connection kept open (asked often)."""

    def __init__(self, connection: KafkaConnection, agencies: Sequence[str]) -> None:
        self._consumer = KafkaConsumer(**connection.options(), isolation_level="read_committed")
        self._tps = [TopicPartition(receipts_topic(a), 0) for a in agencies]

    def ends(self) -> dict[str, int]:
        found = self._consumer.end_offsets(self._tps)
        return {tp.topic: int(found[tp]) for tp in self._tps}

    def close(self) -> None:
        self._consumer.close()


def receipts_end(connection: KafkaConnection, agency: str) -> int:
    consumer = KafkaConsumer(**connection.options(), isolation_level="read_committed")
    try:
        tp = TopicPartition(receipts_topic(agency), 0)
        return int(consumer.end_offsets([tp])[tp])
    finally:
        consumer.close()


def read_receipts(
    connection: KafkaConnection, agency: str, start: int, count: int, timeout_s: float = 60
) -> list[dict[str, object]]:
    """`count` receipts of `agency` from offset `start`, read_committed (fewer on timeout)."""
    consumer = KafkaConsumer(**connection.options(), isolation_level="read_committed")
    tp = TopicPartition(receipts_topic(agency), 0)
    consumer.assign([tp])
    consumer.seek(tp, start)
    found: list[dict[str, object]] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(found) < count and time.monotonic() < deadline:
            for message in consumer.poll(timeout_ms=500).get(tp, []):
                found.append(orjson.loads(message.value))
    finally:
        consumer.close()
    return found


@contextmanager
def gateway_running(settings: Settings, instance: str) -> Iterator[Gateway]:
    """A gateway of the settings, running in a thread until the block ends."""
    stopping = threading.Event()
    failure: list[BaseException] = []
    with open_gateway(settings, instance) as gateway:

        def run() -> None:
            try:
                gateway.run(stopping.is_set)
            except BaseException as error:  # reported when the block ends
                failure.append(error)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        try:
            yield gateway
        finally:
            stopping.set()
            thread.join(timeout=30)
    if failure:
        raise failure[0]


def wait_for(condition: Callable[[], bool], timeout_s: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.2)
