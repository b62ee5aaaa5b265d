"""The event-log contract on a real, secured Apache Kafka broker (deploy/kafka/kafka.sh: SASL_SSL,
SCRAM-SHA-512, ACLs), as the hub principal."""

import hashlib
from pathlib import Path

from kafka import KafkaProducer

from hub.log import EventLog
from hub.log.kafka import KafkaLog
from hub.log.kafka_client import KafkaConnection
from tests.conftest import KafkaService
from tests.unit.log_contract import EventLogContract


class TestKafkaLogContract(EventLogContract):
    connection: KafkaConnection

    def make_log(self, tmp_path: Path) -> EventLog:
        # A fresh topic per test folder; the same folder reopens the same topic.
        topic = "test." + hashlib.sha1(str(tmp_path).encode()).hexdigest()[:16]
        return KafkaLog(self.connection, topic=topic)


def test_a_transactional_writers_markers_and_aborted_records_are_passed(
    kafka: KafkaService, tmp_path: Path
) -> None:
    """What the gateway writes in transactions: readers get only the committed records, their
    offsets increase with the markers' offsets between them, and `skip` passes a trailing
    marker (and an aborted transaction), so a reader's position reaches the end."""
    topic = "test.txn." + hashlib.sha1(str(tmp_path).encode()).hexdigest()[:16]
    with KafkaLog(kafka.connection, topic=topic, partitions=1) as log:
        producer = KafkaProducer(
            **kafka.connection.options(), transactional_id=f"test-{topic}", acks="all"
        )
        try:
            producer.init_transactions()
            for values, commit in (([b"1", b"2"], True), ([b"lost"], False), ([b"3"], True)):
                producer.begin_transaction()
                for value in values:
                    producer.send(topic, key=b"k", value=value, partition=0)
                producer.flush()
                if commit:
                    producer.commit_transaction()
                else:
                    producer.abort_transaction()
        finally:
            producer.close()
        end = log.end_offsets()[0]
        entries = log.read(0, 0, 100)
        assert [e.value for e in entries] == [b"1", b"2", b"3"]
        offsets = [e.offset for e in entries]
        assert offsets == sorted(offsets)
        assert offsets[-1] == end - 2  # the last commit's marker takes the offset after it
        assert log.skip(0, offsets[-1] + 1) == end
        assert log.skip(0, offsets[1] + 1) == offsets[1] + 1  # an entry follows: stay
        assert log.read(0, offsets[1] + 1, 100) == entries[2:]  # past a marker and an abort
