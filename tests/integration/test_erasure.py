"""Erasure on the embedded default and on Kafka + PostgreSQL: one record's personal payload is
stored only sealed (never in clear in the log or the store), its key is in the key store until
the erasure, and after it neither the key nor the payload is in any file the hub writes (nor in
the broker's segments, nor in PostgreSQL's table files); the record is gone from every answer,
everything else answers as before, and the audit ledger still verifies."""

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import duckdb
import httpx
import orjson
import psycopg
import pytest
from typer.testing import CliRunner

from hub.access.keys import KeyStore
from hub.audit.auditor import Audit
from hub.audit.replay import Cut, replay_projections
from hub.bootstrap import Runtime, open_hub, open_projections, postgres_connect
from hub.cli import app as cli
from hub.demo.run import quiet, run_demo
from hub.erasure.erase import UnknownRecordError, erasures
from hub.keys.port import Record
from hub.keys.sealing import unseal
from hub.projection.updater import RECORDED, Projector
from hub.settings import Settings
from projections.answering import prepare
from projections.questions import QUESTIONS, raw_answer
from schemas.place import Place, load_place
from tests.integration.conftest import answers
from tests.integration.served import serving

PATHS = [("embedded", "sqlite"), ("kafka", "postgres")]
AGENCY = "police-north"
PERSON = "a1" * 32  # a person of their own (agency-stage pseudonym)
RECORD_REF = "5e" * 32  # the record to erase, as the agency sends it
CANARY = "erasure-canary-5b7e1d"  # a purpose no synthetic event has: only the record says it


def canary(version: int, locality: str, need: str, ref: str = RECORD_REF) -> dict[str, Any]:
    """A contact the agency records about PERSON, version `version` of record `ref`."""
    return {
        "specversion": "1.0",
        "id": f"{ref}-v{version}",
        "source": f"urn:agency:{AGENCY}",
        "type": "hub.contact.recorded.v1",
        "time": f"2024-06-0{version}T10:00:00Z",
        "subject": PERSON,
        "locality": locality,
        "keyversion": 1,
        "recordref": ref,
        "recordversion": version,
        "data": {"channel": "phone", "purpose": CANARY, "need": need},
    }


def apply(hub: Runtime) -> None:
    if hub.settings.kafka_bootstrap:
        hub.worker.run(lambda: hub.worker.lag() == 0, group=hub.settings.worker_group)
    else:
        hub.worker.run_until_caught_up()


def place_with_record(hub: Runtime, agencies: Path, people: int = 300) -> Place:
    """A small synthetic place through the hub, then the record's two versions."""
    run = run_demo(hub, agencies, people=people, seed=7, stage=quiet, apply=False)
    place = run.place
    first, second = place.localities[0].code, place.localities[1].code
    versions = [canary(1, first, place.needs[0].code), canary(2, second, place.needs[1].code)]
    assert {o.status for o in hub.ingest.submit(AGENCY, versions)} == {"accepted"}
    apply(hub)
    return place


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def holding(files: Iterable[Path], needle: bytes) -> list[str]:
    """The files whose bytes hold `needle`. A file gone since it was listed holds nothing (the
    server replaces some as it runs: `pg_internal.init` after a `VACUUM FULL`)."""
    found = []
    for path in files:
        try:
            if needle in path.read_bytes():
                found.append(str(path))
        except FileNotFoundError:
            continue
    return found


def kafka_segments(factory: pytest.TempPathFactory, settings: Settings) -> list[Path]:
    """The broker's log segment files of the test's topics: the broker's data folder is the
    session fixture's run folder (deploy/kafka/kafka.sh), or HUB_KAFKA_RUN's for a given one."""
    runs = [Path(os.environ.get("HUB_KAFKA_RUN", "/tmp/hub-kafka"))]
    runs += sorted(factory.getbasetemp().glob("kafka*"))
    for run in runs:
        folders = [
            *(run / "data").glob(f"{settings.topic}-*"),
            *(run / "data").glob(f"{settings.rejected_topic}-*"),
        ]
        if folders:
            return [path for folder in folders for path in folder.iterdir() if path.is_file()]
    pytest.fail(f"the broker's data folder for {settings.topic} is not on this machine")


def postgres_files(hub: Runtime) -> list[Path] | None:
    """The database's table files (flushed by a CHECKPOINT), where the server is local and
    readable by the test (the session's throwaway cluster, the test run as root); None for a
    server the test may not read (given from outside, or run as another user)."""
    try:
        with postgres_connect(hub.settings.store_env) as con:
            con.execute("CHECKPOINT")
            row = con.execute(
                "SELECT current_setting('data_directory'), oid FROM pg_database "
                "WHERE datname = current_database()"
            ).fetchone()
    except psycopg.errors.InsufficientPrivilege:
        return None
    assert row is not None
    folder = Path(row[0]) / "base" / str(row[1])
    if not os.access(folder, os.R_OK | os.X_OK):
        return None
    files = files_under(folder)
    return files if files and all(os.access(f, os.R_OK) for f in files) else None


def plaintexts(hub: Runtime, record: Record, key: bytes) -> list[bytes]:
    """The payload bytes sealed in each stored event of `record` (canonical JSON)."""
    found = []
    for n in hub.app.recorder.select_notifications(start=1, limit=1_000_000, topics=[RECORDED]):
        event: Any = hub.app.mapper.to_domain_event(n)
        if (event.source, event.recordref) == record:
            payload = unseal(key, event.source, event.event_id, event.sealed)
            found.append(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS))
    return found


def answers_without(hub: Runtime, place: Place, record: Record) -> dict[str, Any]:
    """The exact answers of the facts as they are, with the record's rows taken out by hand."""
    con = duckdb.connect()
    try:
        Projector(hub.app, con, place, keys=hub.record_keys, unit_keys=hub.unit_keys).catch_up()
        con.execute(
            "delete from facts where agency = ? and recordref = ?",
            [record[0].removeprefix("urn:agency:"), record[1]],
        )
        prepare(con, place)
        return {s: raw_answer(con, s, list(q.cuts), None, place) for s, q in QUESTIONS.items()}
    finally:
        con.close()


def contacts(exact: dict[str, Any]) -> int:
    return sum(int(row["count_contacts"]) for row in exact["demand"])


def file_contacts(hub: Runtime, place: Place) -> int:
    """The contacts counted by the projection file the hub answers from (exact)."""
    with open_projections(hub, place) as projections:
        projections.catch_up()
        rows = raw_answer(projections.con, "demand", [], None, place)
    return sum(int(str(row["count_contacts"])) for row in rows)


@pytest.mark.parametrize(("log", "store"), PATHS)
def test_an_erased_record_is_nowhere_and_in_no_answer_and_the_ledger_still_verifies(
    settings_for: Callable[[str, str], Settings],
    tmp_path_factory: pytest.TempPathFactory,
    agencies: Path,
    log: str,
    store: str,
) -> None:
    settings = settings_for(log, store)
    data = settings.data_dir
    with open_hub(settings) as hub:
        place = place_with_record(hub, agencies)
        record = (f"urn:agency:{AGENCY}", hub.ingest.rekey(RECORD_REF))
        key = hub.record_keys.get([record])[record]
        payloads = plaintexts(hub, record, key)
        assert len(payloads) == 2
        hidden = [key, *payloads, CANARY.encode()]
        exact = answers(hub.app, place, hub.record_keys)
        expected = answers_without(hub, place, record)
        assert expected != exact
        in_file = file_contacts(hub, place)  # the projection file, as the hub answers from it
        assert holding(files_under(data), CANARY.encode()) == [str(data / "projections.duckdb")]

        # Before: the payload is in clear in no log or store file, though the record is there;
        # the key is in the key store.
        logs_and_stores = [
            p for p in files_under(data) if p.name.startswith(("log.", "rejected.", "hub.db"))
        ]
        if log == "kafka":
            logs_and_stores += kafka_segments(tmp_path_factory, settings)
        if store == "postgres":
            tables = postgres_files(hub)
            logs_and_stores += tables or []
            assert tables is None or holding(tables, key)
        else:
            keeping = holding(files_under(data), key)
            assert keeping
            assert all(Path(p).name.startswith("record-keys.sqlite") for p in keeping)
        assert holding(logs_and_stores, record[1].encode())  # the scan sees the record
        for secret in hidden[1:]:
            assert holding(logs_and_stores, secret) == []

        stored_up_to = hub.app.recorder.max_notification_id() or 0
        done = hub.erase(AGENCY, RECORD_REF)
        assert (done.agency, done.recordref, done.events, done.repeated) == (
            AGENCY,
            record[1],
            2,
            False,
        )

        # After: neither the key nor the payload in any file the hub writes, nor the broker's.
        everything = files_under(data)
        if log == "kafka":
            everything += kafka_segments(tmp_path_factory, settings)
        if store == "postgres":
            everything += postgres_files(hub) or []
        for secret in hidden:
            assert holding(everything, secret) == []
        assert hub.record_keys.get([record]) == {}
        assert not (data / "projections.duckdb").exists()

        # The record is in no answer; everything else answers as before.
        after = answers(hub.app, place, hub.record_keys)
        assert contacts(after) == contacts(exact) - 1  # the latest version counted, once
        assert after == expected
        assert file_contacts(hub, place) == in_file - 1  # the file was loaded anew
        assert holding(files_under(data), CANARY.encode()) == []
        # The stored events are as they were: the ledger verifies. A replay, even of a moment
        # before the erasure, cannot show the record either.
        assert Audit(hub.app, settings, hub.record_keys).verify().ok
        replayed = replay_projections(
            hub.app, hub.record_keys, hub.unit_keys, place, Cut.at_position(stored_up_to)
        )
        try:
            gone = "select count(*) from facts where recordref = ?"
            assert replayed.execute(gone, [record[1]]).fetchall() == [(0,)]
            assert replayed.execute("select count(*) from facts").fetchall() != [(0,)]
        finally:
            replayed.close()
        assert [(e.agency, e.recordref, e.events) for e in erasures(hub.record_keys)] == [
            (AGENCY, record[1], 2)
        ]
        again = hub.erase(AGENCY, RECORD_REF)
        assert (again.repeated, again.erased_at) == (True, done.erased_at)
        # The record takes no new version; another agency cannot erase it; unknown is unknown.
        (outcome,) = hub.ingest.submit(AGENCY, [canary(3, place.localities[0].code, "x")])
        assert (outcome.status, outcome.field) == ("rejected", "recordref")
        with pytest.raises(UnknownRecordError, match=f"agency nhs-gp has no record {RECORD_REF}"):
            hub.erase("nhs-gp", RECORD_REF)
        with pytest.raises(UnknownRecordError):
            hub.erase(AGENCY, "0" * 64)


def test_hub_erase_answers_what_it_erased_and_exits_2_for_an_unknown_record(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "hub-data")
    with open_hub(settings) as hub:
        place = place_with_record(hub, tmp_path / "demo-agencies", people=120)
        before = contacts(answers(hub.app, place, hub.record_keys))
    runner = CliRunner()
    common = ["--data-dir", str(settings.data_dir), "--agency"]
    done = runner.invoke(cli, ["erase", *common, AGENCY, RECORD_REF], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    assert "2 stored events" in done.output
    unknown = runner.invoke(cli, ["erase", *common, "nhs-gp", RECORD_REF])
    assert unknown.exit_code == 2
    with open_hub(settings) as hub:
        assert contacts(answers(hub.app, place, hub.record_keys)) == before - 1


def test_an_agency_erases_its_own_record_through_the_api_and_no_other(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "hub-data")
    with open_hub(settings) as hub:
        place = place_with_record(hub, tmp_path / "demo-agencies", people=120)
        before = contacts(answers(hub.app, place, hub.record_keys))
    store = KeyStore(settings.data_dir / "access.sqlite")
    own, other = (store.create("agency", slug).token for slug in (AGENCY, "nhs-gp"))
    commissioner = store.create("commissioner").token
    store.close()
    path = f"/v1/agency/records/{RECORD_REF}/erasure"
    with serving(settings) as url:

        def post(key: str) -> httpx.Response:
            return httpx.post(url + path, headers={"Authorization": f"Bearer {key}"}, timeout=60)

        def demand() -> dict[str, Any]:
            asked = httpx.get(
                f"{url}/v1/questions/demand",
                headers={"Authorization": f"Bearer {commissioner}"},
                timeout=60,
            )
            assert asked.status_code == 200, asked.text
            return dict(asked.json())

        demand()
        refused = post(other)
        assert refused.status_code == 404
        assert refused.json()["field"] == "recordref"
        done = post(own)
        assert done.status_code == 200, done.text
        assert done.json() | {"erased_at": None} == {
            "agency": AGENCY,
            "recordref": RECORD_REF,
            "events": 2,
            "erased_at": None,
        }
        again = post(own)
        assert again.json() == done.json()
        demand()  # the service's projections, loaded anew, answer
    with open_hub(settings) as hub:
        place = load_place(settings.data_dir / "place" / "place.toml")
        assert contacts(answers(hub.app, place, hub.record_keys)) == before - 1
