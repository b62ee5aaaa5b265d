"""The projection updater: the event store's notification log into the DuckDB facts table.

One process owns the DuckDB file (DuckDB lets no second process open a file being written).
The position reached is kept in the same DuckDB transaction as the rows it loaded, so an
interrupted load resumes without losing or doubling a row.

Each stored event's payload is opened with its record's key (`hub.keys.sealing`, the keys of a batch
fetched at once). A record whose key is gone was erased: its events are left out of the facts,
and so of every answer. (An erased objection still keeps its person out of every answer, as a
row without its payload: erasing a record must not lift an objection.)

    projector = Projector(app, duckdb.connect("hub-data/projections.duckdb"), place, keys=keys)
    projector.catch_up()
"""

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import duckdb
from eventsourcing.utils import get_topic

from hub.domain.journey import OBJECTION, Journey
from hub.keys.port import RecordKeys
from hub.keys.sealing import SealError, unseal
from hub.store.application import Hub
from projections.facts import create_facts, insert_facts
from schemas.events import agency_slug, event_kind
from schemas.place import Place

RECORDED = get_topic(Journey.AgencyEventRecorded)
PLAIN_FIELDS = (
    "need",
    "service",
    "urgency",
    "reason",
    "channel",
    "purpose",
    "domain",
    "level",
    "outcome",
    "value",
    "instrument",
    "reported_by",
    "unit",
    "role",
    "scope",
)
ERASED_LOCALITY = "(erased)"  # an erased objection's row: never shown (objectors' rows never are)


class Projector:
    """Loads stored agency events into `facts`, from the position it last reached."""

    def __init__(
        self,
        app: Hub,
        con: duckdb.DuckDBPyConnection,
        place: Place,
        batch: int = 5000,
        *,
        keys: RecordKeys,
    ):
        """`keys`: the record keys, which open each stored event's sealed payload."""
        self.app, self.con, self.batch = app, con, batch
        self.keys = keys
        self._sectors = {a.slug: a.sector for a in place.agencies}
        self._zone = place.zone()
        create_facts(con)
        con.execute("create table if not exists projection_state (position bigint not null)")
        if con.execute("select count(*) from projection_state").fetchall() == [(0,)]:
            con.execute("insert into projection_state values (0)")

    @property
    def position(self) -> int:
        """The last store position loaded (0 before the first)."""
        rows = self.con.execute("select position from projection_state").fetchall()
        return int(rows[0][0]) if rows else 0

    def lag(self) -> int:
        """How many store positions are not yet loaded (events of every kind)."""
        return (self.app.recorder.max_notification_id() or 0) - self.position

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Load everything stored since the last position; return how many facts were added."""
        added = 0
        while True:
            start = self.position
            end = self.app.recorder.max_notification_id() or 0
            if start >= end:
                return added
            stop = min(end, start + self.batch)
            notifications = self.app.recorder.select_notifications(
                start=start,
                limit=self.batch,
                stop=stop,
                topics=[RECORDED],
                inclusive_of_start=False,
            )
            rows = list(self._rows(notifications))
            self.con.execute("begin transaction")
            try:
                added += insert_facts(self.con, rows)
                self.con.execute("update projection_state set position = ?", [stop])
                self.con.execute("commit")
            except BaseException:
                self.con.execute("rollback")
                raise
            if progress is not None:
                progress(stop - start)

    def _rows(self, notifications: Iterable[Any]) -> Iterator[dict[str, object]]:
        """The facts rows of stored notifications (each with its `position`), payloads opened
        with their records' keys, fetched for all of them at once; erased records left out."""
        events: list[tuple[int, Any]] = [
            (n.id, self.app.mapper.to_domain_event(n)) for n in notifications
        ]
        records = {(event.source, event.recordref) for _, event in events}
        keys = self.keys.get(records)
        if len(keys) < len(records):  # erased, unless the key store never knew them
            unknown = records - keys.keys() - self.keys.lookup(records - keys.keys()).keys()
            if unknown:
                source, recordref = min(unknown)
                raise SealError(
                    f"the record keys have no key for {source} record {recordref} (and "
                    f"{len(unknown) - 1} more), erased or not: they are not this store's keys"
                )
        for position, event in events:
            key = keys.get((event.source, event.recordref))
            if key is not None:
                payload = unseal(key, event.source, event.event_id, event.sealed)
                yield self._row(position, event, payload["locality"], payload["data"])
            elif event.event_type == OBJECTION:
                yield self._row(position, event, ERASED_LOCALITY, {})

    def _row(
        self, position: int, event: Any, locality: str, data: dict[str, Any]
    ) -> dict[str, object]:
        agency = agency_slug(event.source)
        row: dict[str, object] = {
            "position": position,
            "event_id": event.event_id,
            "agency": agency,
            "sector": self._sectors.get(agency),
            "type": event_kind(event.event_type),
            "time": event.timestamp,
            "local_month": event.timestamp.astimezone(self._zone).strftime("%Y-%m"),
            "person": str(event.originator_id),
            "locality": locality,
            "recordref": event.recordref,
            "recordversion": event.recordversion,
        }
        row.update({name: data[name] for name in PLAIN_FIELDS if name in data})
        for name in ("to_agency", "redirect_agency"):
            if name in data:
                row[name] = agency_slug(data[name])
        if "referral" in data:
            row["referral_agency"] = agency_slug(data["referral"]["source"])
            row["referral_recordref"] = data["referral"]["recordref"]
        return row
