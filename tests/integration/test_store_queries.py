"""The store's queries (`hub.store.queries`): one contract, run on the SQLite adapter and on the
PostgreSQL adapter (a real server); the event reads also on the in-memory one. The store holds
two agencies whose sources and recordrefs collide in substring form (`urn:agency:police` and
`urn:agency:police-north`; `r1`, `r10` and `xr1`), an erased record and an unknown one; and a
store made before the index (or written past its mark by an older hub) is indexed on open."""

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from hub.bootstrap import open_store, postgres_connect
from hub.domain.journey import Journey
from hub.erasure.erase import erase
from hub.keys.sqlite import EmbeddedRecordKeys
from hub.settings import Settings
from hub.store.application import Hub
from hub.store.leaves import event_leaf, frontier_keys
from hub.store.ledger import Ledger, LedgerError
from hub.store.merkle import node_hash, root_of
from hub.store.record_index import MARK, TABLE

A, B = "urn:agency:police", "urn:agency:police-north"
T0 = datetime(2025, 1, 1, tzinfo=UTC)
# (person, source, event id, recordref, record version)
EVENTS = [
    ("p1", A, "e1", "r1", 1),
    ("p1", B, "e1", "r1", 1),  # the same event id and recordref, from the other agency
    ("p2", A, "e2", "r10", 1),
    ("p1", A, "e3", "r1", 2),
    ("p3", A, "e4", "xr1", 1),
    ("p2", B, "e5", "r10", 1),
    ("p3", B, "e6", "r1", 2),
]


def fill(app: Hub) -> None:
    """The partnership-free store of EVENTS: one journey per person, saved event by event."""
    journeys: dict[str, Journey] = {}
    for n, (person, source, event_id, recordref, version) in enumerate(EVENTS):
        when = T0 + timedelta(days=n)
        journey = journeys.get(person) or Journey(person, timestamp=when)
        journeys[person] = journey
        journey.record(
            source,
            event_id,
            "hub.contact.recorded.v1",
            recordref,
            version,
            1,
            "c2VhbGVk",
            when,
            timestamp=when,
        )
        app.save(journey)


class Store:
    """One backend's store, opened and reopened, with direct SQL for a test's set-up."""

    def __init__(self, backend: str, tmp_path: Path, postgres: Callable[[], dict[str, str]]):
        self.backend = backend
        if backend == "postgres":
            env = postgres() | {"POSTGRES_SCHEMA": f"t_{uuid.uuid4().hex[:10]}"}
            self.settings = Settings(store="postgres", postgres=env, data_dir=tmp_path)
        else:
            self.settings = Settings(data_dir=tmp_path)
        self.app = self.open()

    def open(self) -> Hub:
        if self.backend == "memory":
            return Hub(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        return open_store(self.settings)

    def reopen(self) -> None:
        self.app.close()
        self.app = self.open()

    def sql(self, text: str, params: list[Any] | None = None) -> None:
        """Run `text` ({index}, {mark} for the tables) outside the hub, as an older hub did."""
        if self.backend == "postgres":
            schema = self.settings.store_env["POSTGRES_SCHEMA"]
            text = text.format(index=f'"{schema}".{TABLE}', mark=f'"{schema}".{MARK}')
            with postgres_connect(self.settings.store_env) as con:
                con.execute(text.replace("?", "%s"), params)  # type: ignore[arg-type]
        else:
            con = sqlite3.connect(self.settings.folder.store, isolation_level=None)
            con.execute(text.format(index=TABLE, mark=MARK), params or [])
            con.close()


@pytest.fixture(params=["sqlite", "postgres", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made = Store(request.param, tmp_path, lambda: request.getfixturevalue("postgres_env"))
    fill(made.app)
    yield made
    made.app.close()


@pytest.fixture(params=["sqlite", "postgres"])
def ledgered(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made = Store(request.param, tmp_path, lambda: request.getfixturevalue("postgres_env"))
    fill(made.app)
    yield made
    made.app.close()


def notifications(app: Hub) -> list[tuple[int, StoredEvent]]:
    found = app.recorder.select_notifications(start=1, limit=1000)
    return [
        (n.id, StoredEvent(n.originator_id, n.originator_version, n.topic, n.state)) for n in found
    ]


def positions_of(app: Hub, wanted: Callable[[str, str, str], bool]) -> list[int]:
    """The positions of the recorded EVENTS (source, event id, recordref) that `wanted` keeps."""
    recorded = [p for p, e in notifications(app) if e.topic.endswith("AgencyEventRecorded")]
    return [p for p, e in zip(recorded, EVENTS, strict=True) if wanted(e[1], e[2], e[3])]


def plain(found: list[tuple[int, StoredEvent]]) -> list[tuple[int, StoredEvent]]:
    return [
        (p, StoredEvent(e.originator_id, e.originator_version, e.topic, e.state)) for p, e in found
    ]


def answers(app: Hub) -> dict[str, Any]:
    q = app.queries
    records = [(s, r) for s in (A, B, "urn:agency:nobody") for r in ("r1", "r10", "xr1", "r")]
    return {
        "records": {rec: plain(q.record_events(*rec)) for rec in records},
        "counts": {rec: q.record_event_count(*rec) for rec in records},
        "events": {
            (s, e): q.position_of_event(s, e) for s in (A, B) for e in ("e1", "e4", "e5", "e")
        },
    }


def test_a_record_s_events_and_count(store: Store) -> None:
    app = store.app
    stored = dict(notifications(app))
    for source in (A, B, "urn:agency:nobody"):
        for recordref in ("r1", "r10", "xr1", "r", "unknown"):
            expected = positions_of(app, lambda s, _, r: (s, r) == (source, recordref))  # noqa: B023
            found = app.queries.record_events(source, recordref)
            assert [p for p, _ in found] == expected, (source, recordref)
            assert plain(found) == [(p, stored[p]) for p in expected]
            assert app.queries.record_event_count(source, recordref) == len(expected)
    assert app.queries.record_event_count(A, "r1") == 2
    assert app.queries.record_event_count(B, "r1") == 2
    assert app.queries.record_event_count(A, "unknown") == 0


def test_an_erased_record_keeps_its_stored_events(store: Store, tmp_path: Path) -> None:
    keys = EmbeddedRecordKeys(tmp_path / "keys.sqlite")
    try:
        keys.get_or_create([(A, "r1"), (B, "r1")])
        folder = Settings(data_dir=tmp_path).folder
        done = erase(keys, lambda r: r, store.app, folder, "police", "r1")
        assert (done.recordref, done.events, done.repeated) == ("r1", 2, False)
        # The events stay (sealed under a key that is gone): still found, still counted.
        assert store.app.queries.record_event_count(A, "r1") == 2
        assert erase(keys, lambda r: r, store.app, folder, "police", "r1").events == 2
        assert store.app.queries.record_event_count(B, "r1") == 2
    finally:
        keys.close()


def test_the_position_of_an_agency_event(store: Store) -> None:
    app = store.app
    for source in (A, B):
        for event_id in ("e1", "e2", "e4", "e5", "e6", "e", "e10"):
            expected = positions_of(app, lambda s, e, _: (s, e) == (source, event_id))  # noqa: B023
            assert app.queries.position_of_event(source, event_id) == (
                expected[0] if expected else None
            )
    assert app.queries.position_of_event("urn:agency:nobody", "e1") is None


def test_many_aggregates_and_one_with_positions(store: Store) -> None:
    app = store.app
    ids = [Journey.create_id(p) for p in ("p3", "p1", "nobody", "p2")]
    many = app.queries.events_of_many(ids)
    by_originator = sorted(ids[:2] + ids[3:], key=lambda i: i.hex)
    expected = [e for i in by_originator for e in app.recorder.select_events(i)]
    if store.backend == "memory":  # read aggregate by aggregate, as asked
        expected = [e for i in ids for e in app.recorder.select_events(i)]
    assert [(e.originator_id, e.originator_version, e.state) for e in many] == [
        (e.originator_id, e.originator_version, e.state) for e in expected
    ]
    assert set(app.journeys_of(["p1", "p2", "p3", "nobody"])) == {"p1", "p2", "p3"}
    p1 = Journey.create_id("p1")
    positioned = app.queries.events_with_positions(p1)
    assert plain(positioned) == [(p, e) for p, e in notifications(app) if e.originator_id == p1]
    assert [e.originator_version for _, e in positioned] == [1, 2, 3, 4]
    assert app.queries.events_with_positions(Journey.create_id("nobody")) == []


def test_the_ledger_reads(ledgered: Store) -> None:
    app = ledgered.app
    q = app.queries
    stored = notifications(app)
    leaves = [event_leaf(e) for _, e in stored]
    assert q.ledger_size() == len(stored) == 10  # 3 journeys started, 7 events recorded
    for index, (position, _) in enumerate(stored):
        assert q.ledger_leaf(index) == (position, leaves[index])
        assert q.leaf_at(position) == index
        assert q.leaf_with_hash(leaves[index]) == index
    assert q.ledger_leaf(len(stored)) is None
    assert q.leaf_at(10_000) is None
    assert q.leaf_with_hash(b"\0" * 32) is None
    keys = [*frontier_keys(10), (2, 1), (10_000, 0)]
    nodes = q.ledger_nodes(keys)
    assert set(nodes) == set(keys[:-1])
    assert nodes[(2, 1)] == node_hash(leaves[0], leaves[1])
    assert nodes[(8, 3)] == root_of(leaves[:8])
    assert q.ledger_nodes([]) == {}
    assert Ledger(q).root(10) == root_of(leaves)
    with q.snapshot() as (events, rows):
        events_read, rows_read = list(events), list(rows)
    assert [(int(r[0]), bytes(r[4])) for r in events_read] == [(p, e.state) for p, e in stored]
    assert [(r[0], r[1]) for r in rows_read if r[1] == 0] == [(i + 1, 0) for i in range(10)]
    assert len(rows_read) == 10 + 5 + 2 + 1  # leaves, then subtrees of 2, 4 and 8 leaves


def test_an_in_memory_store_keeps_no_ledger() -> None:
    app = Hub(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    assert not app.queries.keeps_ledger
    with pytest.raises(LedgerError):
        Ledger(app.queries)
    with pytest.raises(LedgerError):
        app.queries.ledger_size()


def test_a_store_made_before_the_index_is_indexed_on_open(ledgered: Store) -> None:
    expected = answers(ledgered.app)
    ledgered.app.close()
    ledgered.sql("DROP TABLE {index}")
    ledgered.sql("DROP TABLE {mark}")
    ledgered.app = ledgered.open()
    assert answers(ledgered.app) == expected


def test_events_an_older_hub_stored_past_the_mark_are_indexed_on_open(ledgered: Store) -> None:
    expected = answers(ledgered.app)
    last = positions_of(ledgered.app, lambda *_: True)
    # As if the last four events were stored by a hub that kept no index (the mark before them).
    ledgered.sql("DELETE FROM {index} WHERE notification_id >= ?", [last[3]])
    ledgered.sql("UPDATE {mark} SET indexed_to = ?", [last[3] - 1])
    assert ledgered.app.queries.record_event_count(A, "r1") == 1  # not yet reopened
    ledgered.reopen()
    assert answers(ledgered.app) == expected
    # Indexed once: opening again adds nothing twice.
    ledgered.reopen()
    assert answers(ledgered.app) == expected
