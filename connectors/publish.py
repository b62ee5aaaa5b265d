"""An agency's extract through its connector, each batch handed to a sender (the hub's ingest
in process, or a served hub over HTTP), every event's outcome counted.

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
    """One agency's extract through its connector and the hub's ingest."""

    agency: str
    sector: str
    rows: int = 0
    refused: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)


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
    over HTTP), counted as it goes."""
    slug = connector.mapping.agency
    run = AgencyRun(slug, sector)
    for batch in connector.read(extract):
        run.rows += batch.rows
        run.refused += len(batch.rejections)
        run.reasons += [str(r) for r in batch.rejections]
        for outcome in submit(batch.events):
            if outcome.status == "rejected":
                run.reasons.append(f"{slug}: event {outcome.id}: {outcome.field}: {outcome.reason}")
            setattr(run, outcome.status, getattr(run, outcome.status) + 1)
        if advance is not None:
            advance(batch.rows)
    return run
