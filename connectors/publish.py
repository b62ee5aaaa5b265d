"""An agency's extract through its connector, each batch handed to a sender (the hub's ingest
in process, a served hub over HTTP, or the agency's inbound topic on Kafka, whose answers come
later as receipts), every event's outcome counted.

    run = publish_with(sender.send, connector, Path("police.csv"))
    run.accepted, run.duplicate, run.rejected, run.reasons
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.csv_connector import CsvConnector
from schemas.submission import Outcome


@dataclass
class AgencyRun:
    """One agency's extract through its connector and the hub's ingest: rows read, rows the
    connector refused, events sent, and the hub's answer to each (`count`)."""

    agency: str
    sector: str
    rows: int = 0
    refused: int = 0
    sent: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)

    def count(self, outcome: Outcome) -> None:
        """One event's answer from the hub, counted; a rejection's field and reason kept."""
        if outcome.status == "rejected":
            self.reasons.append(
                f"{self.agency}: event {outcome.id}: {outcome.field}: {outcome.reason}"
            )
        setattr(self, outcome.status, getattr(self, outcome.status) + 1)

    @property
    def unanswered(self) -> int:
        """Events sent that the hub has not answered (yet)."""
        return max(0, self.sent - self.accepted - self.duplicate - self.rejected)


Submit = Callable[[list[dict[str, Any]]], Sequence[Outcome]]
"""Sends one batch of an agency's events to the hub; the outcome of each, in order."""


def publish_with(
    submit: Submit,
    connector: CsvConnector,
    extract: Path,
    sector: str = "",
    advance: Callable[[int], None] | None = None,
) -> AgencyRun:
    """An extract through its agency's connector, each batch sent by `submit` (in process or
    over HTTP), counted as it goes. A sender whose answers come later (Kafka's receipts)
    returns none; they are `count`ed as they come."""
    run = AgencyRun(connector.mapping.agency, sector)
    for batch in connector.read(extract):
        run.rows += batch.rows
        run.refused += len(batch.rejections)
        run.reasons += [str(r) for r in batch.rejections]
        outcomes = submit(batch.events)
        run.sent += len(batch.events)
        for outcome in outcomes:
            run.count(outcome)
        if advance is not None:
            advance(batch.rows)
    return run
