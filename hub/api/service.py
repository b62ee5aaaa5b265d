"""What the API's routes call: the hub's services over one opened runtime, safe across threads.

Routes never touch the store, the log or DuckDB themselves: they call these methods, which
serialise what must not run at once (ingest's duplicate check, the DuckDB connection).

    with open_service(settings) as service:
        outcomes = service.publish("police-north", validated(events))
        table, position = service.answer("demand", ["locality"], grid_period("2025-Q1"))
        rules = service.disclosure()  # the published rules, with the record's period choices
"""

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from hub.access.keys import KeyStore
from hub.bootstrap import Runtime, open_access, open_hub, open_projections
from hub.domain.partnership import Partnership
from hub.erasure.erase import Erasure
from hub.projection.answers import Projections
from hub.projection.updater import SetAside
from hub.settings import Settings
from projections.disclosure import ControlledTable
from projections.periods import Period
from projections.published import disclosure_document
from schemas.errors import HubError
from schemas.events import AnyAgencyEvent
from schemas.place import Place, load_place
from schemas.submission import Outcome


class NotReadyError(HubError):
    """The hub has no place file yet (run `hub demo`, or give --place)."""

    status = 503
    field = "place"


@dataclass(frozen=True)
class StoredRow:
    position: int
    originator_id: str
    originator_version: int
    topic: str
    state: Any


class HubService:
    """The hub's services for the API; see the module docstring."""

    def __init__(self, runtime: Runtime, keys: KeyStore, place_path: Path) -> None:
        self.runtime, self.keys, self.place_path = runtime, keys, place_path
        self._ingest_lock = threading.Lock()
        self._projections_lock = threading.Lock()
        self._projections: Projections | None = None
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None

    # -- the worker, beside the server ---------------------------------------------------------
    def start_worker(self) -> None:
        """Apply the log in a background thread until the service closes."""
        worker = self.runtime.worker
        self._worker = threading.Thread(
            target=worker.run,
            kwargs={"stop": self._stop.is_set, "group": self.runtime.settings.worker_group},
            name="hub-worker",
            daemon=True,
        )
        self._worker.start()

    def close(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout=30)
        if self._projections is not None:
            self._projections.close()

    # -- agencies ------------------------------------------------------------------------------
    def publish(self, agency: str, checked: Sequence[AnyAgencyEvent | Outcome]) -> list[Outcome]:
        """Ingest a batch already through `schemas.submission.validated` (not validated again)."""
        with self._ingest_lock:
            outcomes = self.runtime.ingest.submit_validated(agency, checked)
        self.keys.count_submissions(agency, (o.status for o in outcomes))
        return outcomes

    def erase(self, agency: str, recordref: str) -> Erasure:
        """Erase one of the agency's records (`hub.erasure`), then load the projections again
        without it: under the projections' lock, so no answer reads them half-way."""
        with self._projections_lock:
            if self._projections is not None:
                self._projections.close()  # its file is deleted and loaded anew
                self._projections = None
            done = self.runtime.erase(agency, recordref)
            if self.place_path.exists():
                self._projections = open_projections(self.runtime, self.place)
                self._projections.catch_up()
            return done

    # -- commissioners and stewards ------------------------------------------------------------
    @property
    def place(self) -> Place:
        if not self.place_path.exists():
            raise NotReadyError(
                f"the hub has no place file at {self.place_path}: run `hub demo` or pass --place"
            )
        return load_place(self.place_path)

    def answer(
        self, slug: str, by: Sequence[str], period: Period | None
    ) -> tuple[ControlledTable, int]:
        """A question's disclosure-controlled answer for one grid period (None: the whole
        record) and the store position it was computed at."""
        with self._projections_lock:
            projections = self._caught_up()
            table = projections.answer(slug, by, period)
            return table, projections.projector.position

    def disclosure(self) -> dict[str, Any]:
        """The place's published disclosure rules, with the grid periods over the record."""
        place = self.place
        with self._projections_lock:
            months = self._caught_up().months()
        return disclosure_document(place, months)

    def _caught_up(self) -> Projections:
        """The projections, opened at first use and loaded up to the store (hold the lock)."""
        if self._projections is None:
            self._projections = open_projections(self.runtime, self.place)
        self._projections.catch_up()
        return self._projections

    def set_aside(self) -> list[SetAside]:
        """The stored events the projections could not open and left out (none before the hub
        has a place), after loading what waits."""
        if not self.place_path.exists():
            return []
        with self._projections_lock:
            return self._caught_up().projector.set_aside()

    # -- stewards ------------------------------------------------------------------------------
    def partnership(self, slug: str) -> Partnership:
        return self.runtime.app.get(slug)

    # -- auditors ------------------------------------------------------------------------------
    def stored(self, after: int, limit: int) -> list[StoredRow]:
        """Stored events after a position (notification id), in order."""
        notifications = self.runtime.app.recorder.select_notifications(start=after + 1, limit=limit)
        return [
            StoredRow(
                n.id, str(n.originator_id), n.originator_version, n.topic, orjson.loads(n.state)
            )
            for n in notifications
        ]


@contextmanager
def open_service(
    settings: Settings, place: Path | None = None, worker: bool = True
) -> Iterator[HubService]:
    """The hub opened for serving: its runtime, keys, and (with `worker`) a worker thread."""
    with open_hub(settings) as runtime:
        keys = open_access(settings)
        service = HubService(runtime, keys, place or settings.folder.place)
        try:
            if worker:
                service.start_worker()
            yield service
        finally:
            service.close()
            keys.close()
