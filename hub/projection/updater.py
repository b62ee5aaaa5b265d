"""The projection updater: the event store's notification log into the DuckDB facts table.

One process owns the DuckDB file (DuckDB lets no second process open a file being written).
The position reached is kept in the same DuckDB transaction as the rows it loaded, so an
interrupted load resumes without losing or doubling a row.

Each stored event's payload is opened with its record's key (`hub.keys.sealing`, the keys of a batch
fetched at once). A record whose key is gone was erased: its events are left out of the facts,
and so of every answer. (An erased objection still keeps its person out of every answer, as a
row without its payload: erasing a record must not lift an objection.)

A stored event that cannot be opened (its record has no key and was never erased: not this
store's keys, or written past the worker's check; or its seal is broken, `SealError`) is set
aside, not loaded: kept in the table `set_aside` (position, source, event_id, reason) in the
same transaction as the facts, and the load goes on, so one bad event never stops an answer.
A set-aside objection still keeps its person out, as an erased one does.

    projector = Projector(
        app, duckdb.connect("hub-data/projections.duckdb"), place, keys=keys, unit_keys=unit_keys
    )
    projector.catch_up()

Each fact carries its unit keys for the cell key method (`projections.unit_keys`), from the
hub's disclosure key. A projection file from before they existed (facts without `record_key`)
is loaded again from the first stored event: projections are derived, the store is the record.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import duckdb
from eventsourcing.utils import get_topic

from hub.domain.journey import OBJECTION, Journey
from hub.keys.port import RecordKeys
from hub.keys.sealing import SealError, unseal
from hub.store.application import Hub
from projections.facts import create_facts, insert_facts
from projections.unit_keys import UnitKeys
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
SET_ASIDE_DDL = """
create table if not exists set_aside (
    position bigint primary key, source varchar not null, event_id varchar not null,
    reason varchar not null
)
"""


@dataclass(frozen=True)
class SetAside:
    """A stored event the projection updater could not open, and left out of the facts."""

    position: int
    source: str
    event_id: str
    reason: str


def set_aside_of(con: duckdb.DuckDBPyConnection) -> list[SetAside]:
    """The events set aside in a projections database, in store order (none before the first
    load)."""
    tables = con.execute(
        "select count(*) from information_schema.tables where table_name = 'set_aside'"
    ).fetchall()
    if tables != [(1,)]:
        return []
    rows = con.execute(
        "select position, source, event_id, reason from set_aside order by position"
    ).fetchall()
    return [SetAside(int(p), str(s), str(e), str(r)) for p, s, e, r in rows]


def _without_unit_keys(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection holds a facts table from before the unit keys."""
    columns = con.execute(
        "select column_name from information_schema.columns where table_name = 'facts'"
    ).fetchall()
    return bool(columns) and ("record_key",) not in columns


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
        unit_keys: UnitKeys,
    ):
        """`keys`: the record keys, which open each stored event's sealed payload; `unit_keys`:
        the cell key method's keys of each fact."""
        self.app, self.con, self.batch = app, con, batch
        self.keys, self.unit_keys = keys, unit_keys
        self._sectors = {a.slug: a.sector for a in place.agencies}
        self._zone = place.zone()
        if _without_unit_keys(con):
            for table in ("facts", "projection_state", "set_aside"):
                con.execute(f"drop table if exists {table}")
        create_facts(con)
        con.execute(SET_ASIDE_DDL)
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
            rows, aside = self._rows(notifications)
            self.con.execute("begin transaction")
            try:
                added += insert_facts(self.con, rows, self.unit_keys)
                if aside:
                    self.con.executemany(
                        "insert or replace into set_aside values (?, ?, ?, ?)",
                        [(a.position, a.source, a.event_id, a.reason) for a in aside],
                    )
                self.con.execute("update projection_state set position = ?", [stop])
                self.con.execute("commit")
            except BaseException:
                self.con.execute("rollback")
                raise
            if progress is not None:
                progress(stop - start)

    def set_aside(self) -> list[SetAside]:
        """The stored events set aside so far (module docstring), in store order."""
        return set_aside_of(self.con)

    def _rows(self, notifications: Iterable[Any]) -> tuple[list[dict[str, object]], list[SetAside]]:
        """The facts rows of stored notifications (each with its `position`), payloads opened
        with their records' keys, fetched for all of them at once; erased records left out;
        and the events that cannot be opened, set aside."""
        events: list[tuple[int, Any]] = [
            (n.id, self.app.mapper.to_domain_event(n)) for n in notifications
        ]
        records = {(event.source, event.recordref) for _, event in events}
        keys = self.keys.get(records)
        unknown: set[tuple[str, str]] = set()
        if len(keys) < len(records):  # erased, unless the key store never knew them
            missing = records - keys.keys()
            unknown = missing - self.keys.lookup(missing).keys()
        rows: list[dict[str, object]] = []
        aside: list[SetAside] = []
        for position, event in events:
            key = keys.get((event.source, event.recordref))
            problem = None
            if key is not None:
                try:
                    payload = unseal(key, event.source, event.event_id, event.sealed)
                except SealError as error:
                    problem = str(error)
                else:
                    rows.append(self._row(position, event, payload["locality"], payload["data"]))
                    continue
            elif (event.source, event.recordref) in unknown:
                problem = (
                    f"the record keys have no key for {event.source} record {event.recordref}, "
                    "and it was never erased: not this store's keys"
                )
            if problem is not None:
                aside.append(SetAside(position, event.source, event.event_id, problem))
            if event.event_type == OBJECTION:  # unopened or erased, it still keeps them out
                rows.append(self._row(position, event, ERASED_LOCALITY, {}))
        return rows, aside

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
