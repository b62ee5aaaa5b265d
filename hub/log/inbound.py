"""The agency's side of the broker: its events onto its own inbound topic, as itself.

    connection = KafkaConnection.from_file(Path("police-north.properties"))  # the agency's own
    with InboundPublisher(connection, "police-north") as publisher:
        publisher.send(batch.events)          # to hub.inbound.police-north.v1, all or an error

Each event is one Kafka message in the CloudEvents binding's binary content mode
(`schemas.kafka_binding.to_binary`: `ce_*` headers, the data as the value), keyed by its
subject, so one person's events keep their order on one partition (the client's own
partitioner chooses it; the gateway reads every partition). The producer is idempotent and
waits for every in-sync replica (`acks=all`); it retries within its delivery timeout, so a
broker restarting mid-batch delays the batch rather than failing or doubling it. `send`
flushes: when it returns, the broker holds the whole batch. It needs nothing of the hub's: the
hub's gateway (`hub gateway`) checks each event and answers on the agency's receipts topic
(`hub.log.receipts`).

A failure is a `BrokerError` (a `LogError`) naming the topic and the cause
(`hub.log.topics.refused`): another agency's client configuration, a login the broker
refused, a broker out of reach. It never holds an event's content.
"""

from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self

from kafka import KafkaProducer
from kafka.errors import KafkaError

from hub.log.kafka_client import KafkaConnection
from hub.log.topics import inbound_topic, refused
from schemas.kafka_binding import to_binary

DELIVERY_TIMEOUT_MS = 60_000
"""How long the producer keeps trying one batch (a broker restart takes a few seconds)."""


class InboundPublisher:
    """Sends an agency's events to its inbound topic; see the module docstring."""

    def __init__(
        self,
        connection: KafkaConnection,
        agency: str,
        make_producer: Callable[..., Any] = KafkaProducer,
    ) -> None:
        self.connection, self.agency = connection, agency
        self.topic = inbound_topic(agency)
        self.sent = 0
        self._closed = False
        try:
            self._producer = make_producer(
                **connection.options(),
                acks="all",
                enable_idempotence=True,
                delivery_timeout_ms=DELIVERY_TIMEOUT_MS,
                reconnect_backoff_max_ms=1000,
                # `send` flushes each batch: large record batches, sent as they fill, cost
                # the sender thread far fewer wake-ups than one every few records.
                linger_ms=200,
                batch_size=1 << 20,
            )
        except KafkaError as error:
            raise refused(error, connection, "write", self.topic, agency) from error

    def send(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Send `events` (JSON-format dicts, as a connector's batch holds them) and wait until
        the broker holds every one; raise `BrokerError` if it does not."""
        messages = [to_binary(event) for event in events]  # all mapped before any is sent
        patience = DELIVERY_TIMEOUT_MS / 1000 + 5
        try:
            futures = [
                self._producer.send(
                    self.topic,
                    key=message.key.encode() if message.key is not None else None,
                    value=message.value,
                    headers=list(message.headers),
                )
                for message in messages
            ]
            self._producer.flush(timeout=patience)
            for future in futures:
                future.get(timeout=patience)
        except KafkaError as error:
            raise refused(error, self.connection, "write", self.topic, self.agency) from error
        self.sent += len(messages)

    def close(self) -> None:
        """Send what waits and close the producer; closing twice is harmless."""
        if not self._closed:
            self._closed = True
            self._producer.close(timeout=10)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
