"""The gateway: every agency's inbound topic into the hub's log, exactly once, with receipts.

    with Gateway(connection, ingest, instance="1") as gateway:   # `hub.bootstrap.open_gateway`
        gateway.run(stop=lambda: stopping.is_set())

Each gateway is a member of the consumer group `hub-gateway` (`Settings.gateway_group`) over
every inbound topic (`hub.inbound.<agency>.v1`, by pattern, so an agency enrolled later is read
too); Kafka shares the topics' partitions between the members. For each batch it polls it runs
the hub's ingest (`Ingest.prepare`: schema, source, raw identifiers, the hub key's second
pseudonym, sealing, the authenticator) with the agency the topic's, and then, **in one Kafka
transaction**, writes every accepted event to `hub.events.v1` (on its person's partition), one
receipt per event to the agency's `hub.receipts.<agency>.v1` (`schemas.receipt`), and the
consumed offsets (`send_offsets_to_transaction` with the consumer's group metadata, so a member
the group has moved on from is fenced). Readers use `read_committed`: the events, the receipts
and the positions are all there, or none is.

What lies outside the transaction cannot lose an event. Record keys are made before it (an
event is sealed under its key), and a key no committed event uses is swept later
(`Worker.sweep_keys`). The duplicate set marks an event seen only after the commit (`Ingest.
settle`): a crash between the two lets one repeat through, which the worker applies as a no-op.

Each gateway's producer has the transactional id `hub-gateway.<instance>`. A gateway started
with the id of one that died aborts what that one left open; one still running with it is
fenced (`GatewayError`), so every live gateway needs its own instance name.
"""

import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError, ProducerFencedError
from kafka.structs import OffsetAndMetadata

from hub.gateway.messages import INBOUND_PATTERN, RECEIPT_HEADERS, InboundBatch, agency_of
from hub.ingest.service import Ingest, Prepared
from hub.log.kafka import READ_COMMITTED, SESSION_TIMEOUT_MS, TOPIC
from hub.log.kafka_client import KafkaConnection
from hub.log.port import DEFAULT_PARTITIONS, LogError, partition_for
from hub.settings import GATEWAY_GROUP, receipts_topic
from schemas.errors import HubError

log = logging.getLogger(__name__)

TRANSACTION_TIMEOUT_MS = 20_000
"""How long an open transaction may last before the broker aborts it: readers wait behind an
open one, so a gateway that dies and is not started again holds them up this long at most."""
PREPARED_FOR_AT_MOST_S = 60.0
"""A batch prepared longer ago than this is aborted and read again, never committed: its record
keys may be swept as unused an hour after they were made (`hub.worker.sweep`)."""
LINGER_MS, BATCH_BYTES = 200, 1 << 20
"""The producer's batching: up to 1 MiB a partition, or 200 ms, whichever comes first."""
FAILURES_IN_A_ROW = 5
"""Transactions that may fail in a row (the broker restarting) before the gateway gives up."""


class GatewayError(HubError):
    """The gateway cannot go on: fenced by another with its id, or the broker unreachable."""

    status = 503
    field = "gateway"


class Gateway:
    """Inbound topics into the log, with receipts, in transactions; see the module docstring."""

    def __init__(
        self,
        connection: KafkaConnection,
        ingest: Ingest,
        instance: str = "1",
        group: str = GATEWAY_GROUP,
        topic: str = TOPIC,
        partitions: int = DEFAULT_PARTITIONS,
        batch_size: int = 2000,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.ingest, self.topic, self.partitions = ingest, topic, partitions
        self.batch_size, self._clock = batch_size, clock
        self.transactional_id = f"{GATEWAY_GROUP}.{instance}"
        self.group = group
        self.events = self.accepted = self.transactions = 0
        options = connection.options()
        try:
            self._producer = KafkaProducer(
                **options,
                transactional_id=self.transactional_id,
                transaction_timeout_ms=TRANSACTION_TIMEOUT_MS,
                acks="all",
                enable_idempotence=True,
                # Everything is flushed at the commit anyway: large batches, sent as they fill,
                # cost the sender thread far fewer wake-ups than a batch every few records.
                linger_ms=LINGER_MS,
                batch_size=BATCH_BYTES,
                reconnect_backoff_max_ms=1000,
            )
            self._producer.init_transactions()  # aborts what a dead predecessor left open
            self._consumer = KafkaConsumer(
                **options,
                group_id=group,
                # Static membership: a gateway started again under its name takes its partitions
                # back at once, without waiting for the dead one's session to time out.
                group_instance_id=self.transactional_id,
                isolation_level=READ_COMMITTED,  # an agency's own transactions, committed only
                enable_auto_commit=False,  # offsets are committed in the transaction alone
                auto_offset_reset="earliest",
                session_timeout_ms=SESSION_TIMEOUT_MS,
                heartbeat_interval_ms=SESSION_TIMEOUT_MS // 6,
                metadata_max_age_ms=30_000,  # a newly enrolled agency's topic is read soon
                max_poll_records=batch_size,
                reconnect_backoff_max_ms=1000,
            )
            self._consumer.subscribe(pattern=INBOUND_PATTERN)
        except KafkaError as error:
            self._close_quietly()
            raise GatewayError(
                f"cannot start the gateway at {connection.describe()}: {error}"
            ) from error

    def run(self, stop: Callable[[], bool], progress: Callable[[int], None] | None = None) -> int:
        """Take batches until `stop()` is true (checked between transactions); return how many
        events were decided."""
        total, failures = 0, 0
        while not stop():
            try:
                done = self.step()
            except (KafkaError, LogError) as error:
                failures += 1
                if failures >= FAILURES_IN_A_ROW:
                    raise GatewayError(
                        f"{failures} transactions failed in a row, the last: {error}"
                    ) from error
                log.warning("a transaction failed and was aborted (%s); trying again", error)
                time.sleep(min(5.0, 0.5 * 2**failures))
                continue
            failures = 0
            total += done
            if progress is not None and done:
                progress(done)
        return total

    def step(self, timeout_s: float = 0.5) -> int:
        """Poll one batch and decide it in one transaction; return how many events it held."""
        polled: dict[Any, list[Any]] = self._consumer.poll(
            timeout_ms=int(timeout_s * 1000), max_records=self.batch_size
        )
        polled = {tp: messages for tp, messages in polled.items() if messages}
        if not polled:
            return 0
        at = self._clock()
        batches = [InboundBatch.of(tp.topic, tp.partition, ms) for tp, ms in polled.items()]
        decided: list[tuple[InboundBatch, Prepared]] = []
        began = time.monotonic()
        try:
            for batch in batches:
                decided.append((batch, self.ingest.prepare(agency_of(batch.topic), batch.checked)))
            self._commit(polled, decided, at, began)
        except ProducerFencedError as error:
            raise GatewayError(
                f"fenced: another gateway runs as {self.transactional_id} (give each its own "
                "--instance)"
            ) from error
        except BaseException:
            self._abort(polled)
            raise
        for _, prepared in decided:
            self.ingest.settle(prepared)
        events = sum(len(batch.checked) for batch in batches)
        self.events += events
        self.accepted += sum(len(prepared.records) for _, prepared in decided)
        self.transactions += 1
        return events

    def _commit(
        self,
        polled: dict[Any, list[Any]],
        decided: list[tuple[InboundBatch, Prepared]],
        at: datetime,
        began: float,
    ) -> None:
        producer = self._producer
        producer.begin_transaction()
        for batch, prepared in decided:
            for record in prepared.records:
                producer.send(
                    self.topic,
                    key=record.key.encode(),
                    value=record.value,
                    headers=list(record.headers),
                    partition=partition_for(record.key, self.partitions),
                )
            answers = receipts_topic(agency_of(batch.topic))
            for key, value in batch.receipts(prepared.outcomes, at):
                producer.send(answers, key=key, value=value, headers=RECEIPT_HEADERS, partition=0)
        offsets = {
            tp: OffsetAndMetadata(messages[-1].offset + 1, "", -1)
            for tp, messages in polled.items()
        }
        producer.send_offsets_to_transaction(offsets, self._consumer.group_metadata())
        if time.monotonic() - began > PREPARED_FOR_AT_MOST_S:
            raise LogError("the batch was prepared too long ago (the process stalled): read again")
        producer.commit_transaction()

    def _abort(self, polled: dict[Any, list[Any]]) -> None:
        """Abort the open transaction (if any) and read the batch again from its start."""
        with contextlib.suppress(KafkaError):
            self._producer.abort_transaction()
        for tp, messages in polled.items():
            with contextlib.suppress(KafkaError, AssertionError, ValueError):
                self._consumer.seek(TopicPartition(tp.topic, tp.partition), messages[0].offset)

    def close(self) -> None:
        """Leave the group and close the producer; closing twice is harmless."""
        self._close_quietly()

    def _close_quietly(self) -> None:
        for part in ("_consumer", "_producer"):
            client = self.__dict__.pop(part, None)
            if client is not None:
                with contextlib.suppress(Exception):
                    client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
