"""Submitting a batch again while the log is briefly unreachable (a broker restarting).

outcomes = submit_with_retry(runtime.ingest, "police-north", events)
"""

import logging
import time
from typing import Any

from hub.ingest.service import Ingest
from hub.log import LogError
from schemas.submission import Outcome

log = logging.getLogger(__name__)


def submit_with_retry(
    ingest: Ingest, slug: str, events: list[dict[str, Any]], patience_s: float = 120.0
) -> list[Outcome]:
    """Submit one batch, trying again while the log is unreachable (a broker restarting).

    Safe to repeat: a batch whose append failed was not remembered as seen, and an entry that
    did reach the log before the failure is applied once by the worker however often it is sent.
    """
    deadline = time.monotonic() + patience_s
    wait = 0.5
    while True:
        try:
            return ingest.submit(slug, events)
        except LogError as error:
            if time.monotonic() + wait > deadline:
                raise LogError(f"{error}; gave up after {patience_s:.0f} s of retries") from None
            log.warning(
                "the log refused a batch of %s (%s); trying again in %.1f s", slug, error, wait
            )
            time.sleep(wait)
            wait = min(wait * 2, 5.0)
