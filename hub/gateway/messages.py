"""From inbound Kafka messages to ingest's batches and back to receipts.

    batch = InboundBatch.of(agency, messages)    # every event of the messages, decoded
    prepared = ingest.prepare(agency, batch.checked)
    receipts = batch.receipts(prepared.outcomes, now)   # one per event, in order

A message holds one event (binary or structured content mode) or several (a batch); the
CloudEvents Kafka binding (`schemas.kafka_binding`) decides by its `content-type`. A message
that cannot be decoded is one rejected event, with the header or field at fault and why.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from schemas.events import AnyAgencyEvent
from schemas.kafka_binding import BindingError, decode
from schemas.receipt import CONTENT_TYPE, Receipt
from schemas.submission import Outcome, validated

INBOUND_PATTERN = r"^hub\.inbound\.[a-z0-9-]+\.v1$"
"""Every agency's inbound topic (`hub.settings.inbound_topic`); a place's codes have no dot."""


def agency_of(topic: str) -> str:
    """The agency whose inbound topic this is (`hub.inbound.police-north.v1` → police-north)."""
    return topic.removeprefix("hub.inbound.").removesuffix(".v1")


@dataclass
class InboundBatch:
    """The events of some messages of one inbound topic partition, each with its place."""

    topic: str
    partition: int
    checked: list[AnyAgencyEvent | Outcome] = field(default_factory=list)
    """Each event as its model, or the rejection it already has (undecodable, or invalid)."""
    places: list[tuple[int, int]] = field(default_factory=list)
    """Each event's (message offset, index within the message)."""

    @classmethod
    def of(cls, topic: str, partition: int, messages: Sequence[Any]) -> "InboundBatch":
        """Decode kafka-python's messages (each `.offset`, `.key`, `.value`, `.headers`)."""
        batch = cls(topic, partition)
        for message in messages:
            try:
                events = decode(message.headers or (), message.value, message.key)
            except BindingError as error:
                batch.checked.append(Outcome("rejected", None, error.field, str(error)))
                batch.places.append((message.offset, 0))
                continue
            batch.checked += validated(events)
            batch.places += [(message.offset, index) for index in range(len(events))]
        return batch

    def receipts(
        self, outcomes: Sequence[Outcome], at: datetime
    ) -> list[tuple[bytes | None, bytes]]:
        """One receipt (key, value) per event, in order."""
        answers = []
        for (offset, index), outcome in zip(self.places, outcomes, strict=True):
            receipt = Receipt.answering(self.topic, self.partition, offset, index, outcome, at)
            key = outcome.id.encode() if outcome.id is not None else None
            answers.append((key, receipt.to_json()))
        return answers


RECEIPT_HEADERS = [("content-type", CONTENT_TYPE.encode())]
"""Every receipt's headers: its value is JSON."""
