"""The connector over HTTP: an agency's events posted to a served hub in batches.

Each batch is posted as `application/cloudevents-batch+json` with the agency's key; a failure
to connect, a timeout or a 5xx/429 answer is tried again with growing waits. Sending a batch
again is safe: the hub answers events it already has as duplicates, so nothing is doubled.

    with HttpPublisher("http://127.0.0.1:8000", key) as sender:
        run = publish_over_http(sender, connector, Path("police.csv"))
"""

import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
import orjson

from connectors.csv_connector import CsvConnector
from connectors.publish import AgencyRun, publish_with
from schemas.errors import HubError
from schemas.submission import Outcome

BATCH = "application/cloudevents-batch+json"
RETRY_STATUS = {429, 500, 502, 503, 504}


class PublishError(HubError):
    """The hub refused a batch, or could not be reached in time."""


class HttpPublisher:
    """Posts batches of events to a served hub; see the module docstring."""

    def __init__(
        self, url: str, key: str, batch_size: int = 500, attempts: int = 8, timeout_s: float = 60
    ) -> None:
        self.url = url.rstrip("/") + "/v1/events"
        self.batch_size, self.attempts = batch_size, attempts
        self._client = httpx.Client(
            headers={"Authorization": f"Bearer {key}", "Content-Type": BATCH}, timeout=timeout_s
        )

    def send(self, events: Sequence[dict[str, Any]]) -> list[Outcome]:
        """Post `events` (in batches); every event's outcome, in order."""
        outcomes: list[Outcome] = []
        for first in range(0, len(events), self.batch_size):
            posted = self._post(orjson.dumps(list(events[first : first + self.batch_size])))
            outcomes += [Outcome(o["status"], o["id"], o["field"], o["reason"]) for o in posted]
        return outcomes

    def _post(self, body: bytes) -> list[dict[str, Any]]:
        wait = 0.5
        for attempt in range(1, self.attempts + 1):
            try:
                response = self._client.post(self.url, content=body)
            except httpx.TransportError as error:
                problem = f"cannot reach {self.url}: {type(error).__name__}"
            else:
                if response.status_code == 200:
                    events: list[dict[str, Any]] = response.json()["events"]
                    return events
                if response.status_code not in RETRY_STATUS:
                    reason = response.json().get("reason", "") if response.content else ""
                    raise PublishError(
                        f"the hub refused the batch ({response.status_code}): {reason}"
                    )
                problem = f"the hub answered {response.status_code}"
            if attempt == self.attempts:
                raise PublishError(f"{problem}; gave up after {attempt} attempts")
            time.sleep(wait)
            wait = min(wait * 2, 10.0)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def publish_over_http(sender: HttpPublisher, connector: CsvConnector, extract: Path) -> AgencyRun:
    """An extract through its connector to a served hub, counted as it goes."""
    return publish_with(sender.send, connector, extract)
