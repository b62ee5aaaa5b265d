"""The event-log contract on a real, secured Apache Kafka broker (deploy/kafka/kafka.sh: SASL_SSL,
SCRAM-SHA-512, ACLs), as the hub principal."""

import hashlib
from pathlib import Path

from hub.log import EventLog
from hub.log.kafka import KafkaLog
from hub.log.kafka_client import KafkaConnection
from tests.unit.log_contract import EventLogContract


class TestKafkaLogContract(EventLogContract):
    connection: KafkaConnection

    def make_log(self, tmp_path: Path) -> EventLog:
        # A fresh topic per test folder; the same folder reopens the same topic.
        topic = "test." + hashlib.sha1(str(tmp_path).encode()).hexdigest()[:16]
        return KafkaLog(self.connection, topic=topic)
