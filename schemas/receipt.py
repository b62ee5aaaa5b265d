"""A receipt: what the hub said about one event an agency published to its inbound topic.

The gateway writes one receipt per event to the agency's receipts topic
(`hub.receipts.<agency>.v1`, which only that agency may read), in the same Kafka transaction as
the event it accepted and the inbound offsets it consumed: a receipt is there exactly when the
hub has decided. Its value is this model as JSON (`content-type: application/json`), its key
the agency's own event id (none where the message gave no readable id).

    receipt = Receipt.answering("hub.inbound.police-north.v1", 0, 41, 0, outcome, now)
    value = receipt.to_json()
    again = Receipt.model_validate_json(value)

A rejected event's receipt names the field and the reason, never the value. `partition`,
`offset` and `index` say which inbound message (and which event of a batch message) it answers.
"""

from datetime import datetime
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict

from schemas.submission import Outcome

CONTENT_TYPE = "application/json"


class Receipt(BaseModel):
    """One event's outcome at the hub; see the module docstring."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None
    """The agency's own event id (None where the message held no readable one)."""
    status: Literal["accepted", "duplicate", "rejected"]
    field: str | None = None
    """For a rejected event: the field at fault (never its value)."""
    reason: str | None = None
    """For a rejected event: why."""
    topic: str
    """The inbound topic the event came on."""
    partition: int
    offset: int
    index: int = 0
    """The event's place in its message (a batch message holds several; otherwise 0)."""
    receivedat: datetime
    """When the gateway decided (its clock, UTC)."""

    @classmethod
    def answering(
        cls,
        topic: str,
        partition: int,
        offset: int,
        index: int,
        outcome: Outcome,
        at: datetime,
    ) -> "Receipt":
        """The receipt of one event of an inbound message."""
        return cls(
            id=outcome.id,
            status=outcome.status,
            field=outcome.field,
            reason=outcome.reason,
            topic=topic,
            partition=partition,
            offset=offset,
            index=index,
            receivedat=at,
        )

    def to_json(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json", exclude_none=True))
