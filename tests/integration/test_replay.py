"""Replay and lineage on both stores (SQLite, and PostgreSQL on a real server).

- A record-basis replay at a position equals a fresh rebuild from a copy of the store cut at
  that position (every question's exact rows, and journeys).
- An event that happened long ago but arrived late is in the event-basis replay of a moment
  before it arrived, and not in the record-basis one.
- The stored events `lineage` finds for each cell of `demand` are exactly as many as the
  cell's unsuppressed figures; `hub audit trace` gives each with a proof that verifies.
"""

import base64
import secrets
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
from eventsourcing.application import AggregateNotFoundError
from typer.testing import CliRunner

from connectors.csv_connector import CsvConnector
from connectors.mapping import load_mapping
from connectors.pseudonym import load_pseudonymiser
from hub.audit.replay import Cut, replay_journey, replay_projections
from hub.bootstrap import open_hub, open_store, postgres_connect, record_keys_of
from hub.cli import app as cli
from hub.demo.agencies import AgenciesFolder
from hub.demo.run import quiet, run_demo
from hub.domain.journey import Journey
from hub.projection.updater import Projector
from hub.settings import Settings
from hub.store.application import Hub
from hub.store.merkle import verify_inclusion
from projections.answering import answer, prepare
from projections.lineage import lineage
from projections.questions import QUESTIONS, raw_answer
from schemas.place import Place
from tests.integration.conftest import settings_env
from tests.unit_keys import TEST_UNIT_KEYS

STORES = ["sqlite", "postgres"]


@pytest.fixture(params=STORES)
def place_run(
    request: pytest.FixtureRequest, settings_for: Callable[..., Settings], agencies: Path
) -> tuple[Settings, Place]:
    settings = settings_for("embedded", request.param)
    with open_hub(settings) as hub:
        run = run_demo(hub, agencies, people=250, seed=11, stage=quiet)
    return settings, run.place


def all_answers(con: duckdb.DuckDBPyConnection, place: Place) -> dict[str, Any]:
    """Every question's exact rows at its finest cuts, and what commissioners are shown (the
    perturbed figures, which a replay of the same position must give again) at each cut."""
    exact = {
        slug: raw_answer(con, slug, list(q.cuts), None, place) for slug, q in QUESTIONS.items()
    }
    shown = {
        f"{slug} by {cut}": answer(con, slug, [cut], None, place).to_json()
        for slug, q in QUESTIONS.items()
        for cut in q.cuts
    }
    return exact | shown


def cut_copy(settings: Settings, copy: Settings, position: int) -> Hub:
    """A new store holding the first `position` positions of the settings' store, as is."""
    target = open_store(copy)  # eventsourcing makes the tables
    source = open_store(settings)
    table = target.recorder.events_table_name  # type: ignore[attr-defined]
    columns = "originator_id, originator_version, topic, state"
    if settings.store == "postgres":
        old, new = settings.store_env["POSTGRES_SCHEMA"], copy.store_env["POSTGRES_SCHEMA"]
        with postgres_connect(settings.store_env) as con:
            con.execute(
                f'INSERT INTO "{new}".{table} (notification_id, {columns}) '
                f'SELECT notification_id, {columns} FROM "{old}".{table} '
                "WHERE notification_id <= %s",
                [position],
            )
    else:
        with sqlite3.connect(copy.data_dir / "hub.db", isolation_level=None) as con:
            con.execute("ATTACH DATABASE ? AS old", [str(settings.data_dir / "hub.db")])
            con.execute(
                f"INSERT INTO {table} (rowid, {columns}) "
                f"SELECT rowid, {columns} FROM old.{table} WHERE rowid <= ?",
                [position],
            )
            con.execute("DETACH DATABASE old")
    source.close()
    return target


def test_replay_at_a_position_equals_a_rebuild_of_the_store_cut_there(
    place_run: tuple[Settings, Place], settings_for: Callable[..., Settings]
) -> None:
    settings, place = place_run
    copy_settings = settings_for("embedded", settings.store, "-copy")
    copy_settings.data_dir.mkdir(parents=True)
    app = open_store(settings)
    try:
        end = app.recorder.max_notification_id() or 0
        position = end // 2 + 7  # anywhere, even inside a batch
        copy = cut_copy(settings, copy_settings, position)
        try:
            fresh = duckdb.connect()
            # The copy's events are sealed under the hub's record keys.
            Projector(
                copy, fresh, place, keys=record_keys_of(app), unit_keys=TEST_UNIT_KEYS
            ).catch_up()
            prepare(fresh, place)
            replayed = replay_projections(
                app, record_keys_of(app), TEST_UNIT_KEYS, place, Cut.at_position(position)
            )
            expected = all_answers(fresh, place)
            assert expected == all_answers(replayed, place)
            assert expected != all_answers(
                replay_projections(
                    app, record_keys_of(app), TEST_UNIT_KEYS, place, Cut.at_position(end)
                ),
                place,
            )
            started = app.recorder.select_notifications(
                start=1, limit=1_000_000, topics=["hub.domain.journey:Journey.Started"]
            )
            persons = [orjson.loads(n.state)["person"] for n in started][:40]
            for person in persons:
                cut = replay_journey(app, person, Cut.at_position(position))
                try:
                    rebuilt: Journey | None = copy.journey_of(person)
                except AggregateNotFoundError:  # not begun by then
                    rebuilt = None
                assert (cut is None) == (rebuilt is None), person
                if cut is not None and rebuilt is not None:
                    assert (cut.version, cut.applied) == (rebuilt.version, rebuilt.applied)
        finally:
            copy.close()
    finally:
        app.close()


def late_event(held: AgenciesFolder, place: Place) -> dict[str, Any]:
    """An agency event that happened months ago (a contact or a referral), sent only now (from
    the agency's own extract, mapping and place key: the hub holds none of them)."""
    agency = place.agencies[0].slug
    connector = CsvConnector(
        load_mapping(held.mapping(agency), place), place, load_pseudonymiser(held.place_key)
    )
    for batch in connector.read(held.extract(agency)):
        for event in batch.events:
            if event["type"] in ("hub.contact.recorded.v1", "hub.referral.made.v1"):
                return dict(event) | {
                    "recordref": secrets.token_hex(32),
                    "recordversion": 1,
                }
    raise AssertionError("no contact or referral in the extract")


def demand_total(con: duckdb.DuckDBPyConnection, place: Place, month: str) -> int:
    rows = raw_answer(con, "demand", [], (month, month), place)
    return sum(int(r["count_referrals"]) + int(r["count_contacts"]) for r in rows)  # type: ignore[call-overload]


def test_event_basis_includes_late_arrivals_record_basis_does_not(
    place_run: tuple[Settings, Place], agencies: Path
) -> None:
    settings, place = place_run
    with open_hub(settings) as hub:
        before = hub.app.recorder.max_notification_id() or 0
        time.sleep(1.1)
        moment = datetime.now(UTC)  # after the demo was recorded, before the late event
        time.sleep(1.1)
        event = late_event(AgenciesFolder(agencies), place)
        [outcome] = hub.ingest.submit(place.agencies[0].slug, [event])
        assert outcome.status == "accepted", outcome
        hub.worker.run_until_caught_up()
        month = str(event["time"])[:7]
        person = hub.ingest.rekey(str(event["subject"]))

        record = replay_projections(
            hub.app, hub.record_keys, hub.unit_keys, place, Cut.as_of(moment, "record")
        )
        by_event = replay_projections(
            hub.app, hub.record_keys, hub.unit_keys, place, Cut.as_of(moment, "event")
        )
        at_position = replay_projections(
            hub.app, hub.record_keys, hub.unit_keys, place, Cut.at_position(before)
        )
        assert demand_total(by_event, place, month) == demand_total(record, place, month) + 1
        assert all_answers(record, place) == all_answers(at_position, place)
        late = f"urn:agency:{place.agencies[0].slug}"
        then = replay_journey(hub.app, person, Cut.as_of(moment, "record"))
        known = replay_journey(hub.app, person, Cut.as_of(moment, "event"))
        assert known is not None
        assert then is None or len(then.applied) == len(known.applied) - 1
        assert any(key.startswith(late) for key in known.applied)


def test_lineage_counts_equal_every_cell_of_demand(place_run: tuple[Settings, Place]) -> None:
    settings, place = place_run
    app = open_store(settings)
    try:
        con = replay_projections(
            app,
            record_keys_of(app),
            TEST_UNIT_KEYS,
            place,
            Cut.at_position(app.recorder.max_notification_id() or 0),
        )
        by = ["locality", "agency"]
        rows = raw_answer(con, "demand", by, None, place)
        assert len(rows) > 20
        for row in rows:
            cell = {col: str(row[col]) for col in ("month", "locality", "agency")}
            traced = lineage(con, "demand", cell, None)
            for measure in QUESTIONS["demand"].counts:
                assert sum(1 for _, m in traced if m == measure) == row[measure], (cell, measure)
            assert len({p for p, _ in traced}) == len(traced)
    finally:
        app.close()
    # One cell through `hub audit trace`: every event's proof verifies against the root.
    row = max(rows, key=lambda r: int(r["count_contacts"]))  # type: ignore[call-overload]
    cell_text = f"month={row['month']},locality={row['locality']},agency={row['agency']}"
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "trace",
            "demand",
            "--cell",
            cell_text,
            "--data-dir",
            str(settings.data_dir),
            "--store",
            settings.store,
        ],
        env=settings_env(settings),
    )
    assert result.exit_code == 0, result.output
    document = orjson.loads(result.stdout)
    assert document["figures"]["count_contacts"] == row["count_contacts"]
    assert len(document["events"]) == int(row["count_contacts"]) + int(row["count_referrals"])  # type: ignore[call-overload]
    root = base64.b64decode(document["root"])
    for event in document["events"]:
        verify_inclusion(
            event["leafIdx"],
            document["treeSize"],
            base64.b64decode(event["leafHash"]),
            [base64.b64decode(p) for p in event["proof"] or []],
            root,
        )
