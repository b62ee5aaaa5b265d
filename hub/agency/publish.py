"""An agency's extract through its connector to its own inbound topic, as the agency, with the
hub's receipt of every event counted.

    run, where = publish_over_kafka(connection, connector, Path("police.csv"), wait=True,
                                    timeout_s=120)
    run.accepted, run.rejected, run.unanswered

It needs the agency's client configuration (`connection`), its mapping and the place key (in
`connector`) and nothing of the hub's. With `wait`, the receipts topic's end is noted before
anything is sent, and each event's receipt is read from there (`hub.log.receipts`); an event
the hub has not answered within `timeout_s` counts as unanswered. `hub publish` and the demo on
Kafka both publish this way.
"""

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from connectors.csv_connector import CsvConnector
from connectors.publish import AgencyRun, publish_with
from hub.log.inbound import InboundPublisher
from hub.log.kafka_client import KafkaConnection
from hub.log.receipts import ReceiptReader
from schemas.submission import Outcome


def publish_over_kafka(
    connection: KafkaConnection,
    connector: CsvConnector,
    extract: Path,
    wait: bool,
    timeout_s: float,
    sector: str = "",
    advance: Callable[[int], None] | None = None,
    answered: Callable[[int], Callable[[], None]] | None = None,
) -> tuple[AgencyRun, str]:
    """The extract to the agency's inbound topic; with `wait`, each event's receipt counted.
    `advance` is told the rows read as they go; `answered(total)` is called once the events
    are sent, and what it returns is called for each receipt (a progress bar's)."""
    agency = connector.mapping.agency
    with contextlib.ExitStack() as stack:
        receipts = stack.enter_context(ReceiptReader(connection, agency)) if wait else None
        start = receipts.end() if receipts is not None else 0
        publisher = stack.enter_context(InboundPublisher(connection, agency))
        ids: list[str] = []

        def send(events: list[dict[str, Any]]) -> tuple[Outcome, ...]:
            publisher.send(events)
            ids.extend(str(event["id"]) for event in events)
            return ()  # the answers come later, as receipts

        run = publish_with(send, connector, extract, sector, advance)
        where = f"sent to {publisher.topic} at {connection.bootstrap}"
        if receipts is not None and ids:
            tick = answered(len(ids)) if answered is not None else None
            for receipt in receipts.answers(ids, start, timeout_s):
                run.count(Outcome(receipt.status, receipt.id, receipt.field, receipt.reason))
                if tick is not None:
                    tick()
    return run, where
