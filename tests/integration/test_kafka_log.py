"""The event-log contract on a real Apache Kafka broker (started by deploy/kafka/kafka.sh)."""

import hashlib
from pathlib import Path

from hub.log import EventLog
from hub.log.kafka import KafkaLog
from tests.unit.log_contract import EventLogContract


class TestKafkaLogContract(EventLogContract):
    bootstrap: str

    def make_log(self, tmp_path: Path) -> EventLog:
        # A fresh topic per test folder; the same folder reopens the same topic.
        topic = "test." + hashlib.sha1(str(tmp_path).encode()).hexdigest()[:16]
        return KafkaLog(self.bootstrap, topic=topic)
