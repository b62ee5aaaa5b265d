"""The agency's side of the broker: the hub's answers on its receipts topic, as itself.

    with ReceiptReader(connection, "police-north") as receipts:    # hub.receipts.police-north.v1
        start = receipts.end()                   # before sending: only newer receipts after it
        ...                                       # send events (`hub.log.inbound`)
        for receipt in receipts.answers(ids, start, timeout_s=120):   # until all are answered
            print(receipt.id, receipt.status, receipt.field, receipt.reason)
        everything = list(receipts.read())        # from the beginning to the end as it is now

The gateway writes one receipt (`schemas.receipt.Receipt`) per event, in the same Kafka
transaction as the event itself, on the topic's one partition. This reader is
`read_committed`, so it is given a receipt only once the hub has decided, and never one of a
transaction that was aborted (a gateway that died mid-batch answers that batch again). It is
assigned the partition and seeks; it joins no consumer group and commits nothing, so it needs
only the agency's READ on the topic. The end offset it reads up to is the last stable offset,
which counts transaction markers too: reading stops when the consumer's position passes it,
not after so many receipts.

A record that is not a receipt (only the hub may write the topic, so none should be) is
neither skipped silently nor fatal: its offset is kept in `unreadable`, and the reading goes
on. A refusal or a timeout is a `BrokerError` naming the topic (`hub.log.topics.refused`).
"""

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any, Self

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from pydantic import ValidationError

from hub.log.kafka_client import KafkaConnection
from hub.log.topics import BrokerError, receipts_topic, refused
from schemas.receipt import Receipt

POLL_MS = 200


class ReceiptReader:
    """Reads an agency's receipts topic; see the module docstring."""

    def __init__(
        self,
        connection: KafkaConnection,
        agency: str,
        timeout_s: float = 30.0,
        make_consumer: Callable[..., Any] = KafkaConsumer,
    ) -> None:
        self.connection, self.agency, self.timeout_s = connection, agency, timeout_s
        self.topic = receipts_topic(agency)
        self.unreadable: list[int] = []
        """The offsets of records that were not receipts."""
        self._partition = TopicPartition(self.topic, 0)
        self._closed = False
        try:
            self._consumer = make_consumer(
                **connection.options(),
                group_id=None,
                enable_auto_commit=False,
                isolation_level="read_committed",
                auto_offset_reset="earliest",  # an offset the topic no longer keeps: its first
                reconnect_backoff_max_ms=1000,
            )
        except KafkaError as error:
            raise self._refused(error) from error

    def end(self) -> int:
        """The offset after the last receipt committed now (the last stable offset)."""
        try:
            asked = int(self.timeout_s * 1000)
            ends = self._consumer.end_offsets([self._partition], timeout_ms=asked)
        except KafkaError as error:
            raise self._refused(error) from error
        return int(ends[self._partition])

    @property
    def position(self) -> int:
        """The offset this reader reads from next."""
        try:
            return int(self._consumer.position(self._partition))
        except KafkaError as error:
            raise self._refused(error) from error

    def read(self, start: int = 0) -> Iterator[Receipt]:
        """Every receipt from offset `start` up to the end as it is when called; a
        `BrokerError` if the reading stops moving for the reader's timeout first."""
        end = self.end()
        last, since = start, time.monotonic()

        def stalled() -> bool:
            nonlocal last, since
            if self.position > last:
                last, since = self.position, time.monotonic()
            return time.monotonic() - since > self.timeout_s

        yield from self._from(start, lambda: self.position >= end, stalled)
        if self.position < end:
            raise BrokerError(
                f"reading {self.topic} timed out at offset {self.position:,} of {end:,}: "
                "try again, or a later --from-offset"
            )

    def answers(self, ids: Iterable[str], start: int, timeout_s: float) -> Iterator[Receipt]:
        """The receipts, from offset `start`, of the events with these ids (an id given twice
        is answered twice), until each is answered or `timeout_s` passes: the caller counts
        what came. Receipts of other events are passed over."""
        waiting = Counter(ids)  # each id's answers still to come; gone once none are
        deadline = time.monotonic() + timeout_s

        def expired() -> bool:
            return time.monotonic() > deadline

        for receipt in self._from(start, lambda: not waiting, expired):
            answered = receipt.id
            if answered is not None and answered in waiting:
                waiting[answered] -= 1
                if waiting[answered] == 0:
                    del waiting[answered]
                yield receipt

    def _from(
        self, start: int, done: Callable[[], bool], expired: Callable[[], bool]
    ) -> Iterator[Receipt]:
        """Receipts from `start` until `done()` or `expired()`."""
        try:
            self._consumer.assign([self._partition])
            self._consumer.seek(self._partition, start)
            while not done() and not expired():
                polled: dict[Any, list[Any]] = self._consumer.poll(timeout_ms=POLL_MS)
                for message in polled.get(self._partition, []):
                    receipt = self._receipt(message)
                    if receipt is not None:
                        yield receipt
        except KafkaError as error:
            raise self._refused(error) from error

    def _receipt(self, message: Any) -> Receipt | None:
        """The message's receipt, or None (its offset noted as unreadable)."""
        try:
            return Receipt.model_validate_json(message.value or b"")
        except ValidationError:
            self.unreadable.append(int(message.offset))
            return None

    def _refused(self, error: KafkaError) -> BrokerError:
        return refused(error, self.connection, "read", self.topic, self.agency)

    def close(self) -> None:
        """Close the consumer; closing twice is harmless."""
        if not self._closed:
            self._closed = True
            self._consumer.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
