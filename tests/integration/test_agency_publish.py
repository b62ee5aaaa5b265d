"""The agency's side on the real secured broker, as the agency's own principal and from a
folder holding only its material: `hub publish --kafka` puts its events on its inbound topic in
binary content mode and opens nothing of the hub's; another agency's topic is refused by name;
`hub publish` waits for the receipts (here written by the test as the hub, as `hub gateway`
will) and `hub receipts` lists them, committed ones only; another agency's receipts are
refused."""

import os
import shutil
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from connectors.csv_connector import CsvConnector
from connectors.mapping import load_mapping
from connectors.pseudonym import load_pseudonymiser, new_key_file
from hub.log.kafka_client import KafkaConnection
from hub.settings import inbound_topic, receipts_topic
from schemas.events import AgencyEventAdapter
from schemas.kafka_binding import decode
from schemas.place import load_place
from schemas.receipt import Receipt
from tests.conftest import FIXTURES
from tests.integration.kafka_principals import PLACE, A, B, Enrolled

ROOT = Path(__file__).resolve().parents[2]
HEADER = (
    "Occurrence Ref,Version,NHS No,Date/Time,Beat,Activity,Referred To,Concern,Priority,"
    "Channel,Service,Linked Ref"
)
ROWS = [
    "R1,1,943 476 5919,05/03/2024 14:30,Beat 1 Ashfield,REF-OUT,Homes Trust,HSG,P3,,,",
    "R2,1,943 476 5919,06/03/2024 10:00,Beat 2 Brookside,CONTACT,,DA,,999,,",
    "R1,2,943 476 5919,07/03/2024 09:00,Beat 1 Ashfield,REF-OUT,Homes Trust,DA,P2,,,",
]


def agency_folder(enrolled: Enrolled, where: Path, agency: str = A) -> Path:
    """A folder with the agency's material alone: the place file, its mapping, its extract, the
    place key, its client configuration and the CA (the configuration points at this copy)."""
    folder = where / f"{agency}-material"
    folder.mkdir()
    shutil.copy(PLACE, folder / "place.toml")
    shutil.copy(FIXTURES / "police-north.toml", folder / "police-north.toml")
    (folder / "police.csv").write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    new_key_file(folder / "place-key.toml")  # a fresh key: events no earlier run sent
    shutil.copy(enrolled.folder / "ca.pem", folder / "ca.pem")
    lines = [
        f"ssl.truststore.location={folder / 'ca.pem'}"
        if line.startswith("ssl.truststore.location=")
        else line
        for line in enrolled.java(agency).read_text(encoding="utf-8").splitlines()
    ]
    config = folder / f"{agency}.properties"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config.chmod(0o600)
    return folder


def agency_env(folder: Path, nowhere: Path) -> dict[str, str]:
    """The environment of an agency's process: no hub data folder where HUB_DATA_DIR points,
    no hub client configuration, no store settings."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(folder),
        "PYTHONPATH": str(ROOT),
        "COLUMNS": "200",
        "HUB_DATA_DIR": str(nowhere),
    }


def as_agency(folder: Path, nowhere: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`hub` run in the agency's folder with no hub anywhere."""
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        cwd=folder,
        env=agency_env(folder, nowhere),
        capture_output=True,
        text=True,
        timeout=180,
    )


def publish_args(enrolled: Enrolled, folder: Path, config: str, *more: str) -> list[str]:
    return [
        "publish",
        "police.csv",
        "--mapping",
        "police-north.toml",
        "--place",
        "place.toml",
        "--key",
        "place-key.toml",
        "--kafka",
        enrolled.kafka.bootstrap,
        "--client-config",
        config,
        *more,
    ]


def expected_events(folder: Path) -> list[dict[str, Any]]:
    place = load_place(folder / "place.toml")
    connector = CsvConnector(
        load_mapping(folder / "police-north.toml", place),
        place,
        load_pseudonymiser(folder / "place-key.toml"),
    )
    return [event for batch in connector.read(folder / "police.csv") for event in batch.events]


def inbound_ends(hub: KafkaConnection, agency: str) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(**hub.options(), isolation_level="read_committed")
    try:
        topic = inbound_topic(agency)
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return {tp: int(n) for tp, n in consumer.end_offsets(tps).items()}
    finally:
        consumer.close()


def read_inbound(hub: KafkaConnection, start: dict[TopicPartition, int], count: int) -> list[Any]:
    """`count` messages of the inbound topic past `start`, read as the hub (fewer in 60 s)."""
    consumer = KafkaConsumer(**hub.options(), isolation_level="read_committed")
    consumer.assign(list(start))
    for tp, offset in start.items():
        consumer.seek(tp, offset)
    found: list[Any] = []
    deadline = time.monotonic() + 60
    try:
        while len(found) < count and time.monotonic() < deadline:
            for messages in consumer.poll(timeout_ms=500).values():
                found += messages
    finally:
        consumer.close()
    return found


def receipts_end(hub: KafkaConnection, agency: str) -> int:
    consumer = KafkaConsumer(**hub.options(), isolation_level="read_committed")
    try:
        tp = TopicPartition(receipts_topic(agency), 0)
        return int(consumer.end_offsets([tp])[tp])
    finally:
        consumer.close()


def answer(event_id: str, offset: int, rejected: bool = False, status: str = "accepted") -> bytes:
    return Receipt(
        id=event_id,
        status="rejected" if rejected else status,  # type: ignore[arg-type]
        field="data.need" if rejected else None,
        reason="is not a need this test allows" if rejected else None,
        topic=inbound_topic(A),
        partition=0,
        offset=offset,
        receivedat=datetime.now(UTC),
    ).to_json()


def as_the_hub(hub: KafkaConnection) -> KafkaProducer:
    """A transactional producer as the hub principal, as the gateway writes receipts."""
    producer = KafkaProducer(
        **hub.options(), transactional_id=f"hub-gateway.test-{uuid.uuid4().hex[:8]}"
    )
    producer.init_transactions()
    return producer


def write_receipts(producer: KafkaProducer, agency: str, answers: list[tuple[str, bytes]]) -> None:
    for key, value in answers:
        producer.send(
            receipts_topic(agency),
            key=key.encode(),
            value=value,
            headers=[("content-type", b"application/json")],
            partition=0,
        )


def test_an_agency_publishes_to_its_inbound_topic_with_its_own_material_alone(
    enrolled: Enrolled, tmp_path: Path
) -> None:
    folder = agency_folder(enrolled, tmp_path)
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    nowhere = tmp_path / "no-hub-here"
    hub = enrolled.kafka.connection
    start = inbound_ends(hub, A)
    done = as_agency(
        folder, nowhere, *publish_args(enrolled, folder, f"{A}.properties", "--no-wait")
    )
    assert done.returncode == 0, done.stdout + done.stderr
    said = " ".join(done.stdout.split())
    assert "police.csv (police-north): 0 refused at the agency, 0 accepted" in said
    assert "3 not answered yet; sent to hub.inbound.police-north.v1 at" in said
    assert "`hub receipts` shows the hub's answers" in said
    assert not nowhere.exists()  # no hub data folder, not even an empty one
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before

    expected = expected_events(folder)
    messages = read_inbound(hub, start, len(expected))
    assert len(messages) == len(expected)
    got = []
    for message in messages:
        names = [name for name, _ in message.headers]
        assert "ce_specversion" in names
        assert ("content-type", b"application/json") in message.headers  # binary mode
        [event] = decode(message.headers, message.value, message.key)
        AgencyEventAdapter.validate_python(event)
        assert message.key == event["subject"].encode()
        got.append(event)
    by_id = {e["id"]: e | {"datacontenttype": "application/json"} for e in expected}
    assert sorted(got, key=lambda e: e["id"]) == sorted(by_id.values(), key=lambda e: e["id"])


def test_another_agencys_client_configuration_is_refused_by_name(
    enrolled: Enrolled, tmp_path: Path
) -> None:
    folder = agency_folder(enrolled, tmp_path, B)  # police-north's mapping, homes-trust's login
    nowhere = tmp_path / "no-hub-here"
    config = f"{B}.properties"
    done = as_agency(folder, nowhere, *publish_args(enrolled, folder, config, "--no-wait"))
    assert done.returncode == 1, done.stdout + done.stderr
    said = " ".join(done.stderr.split())
    assert said == (
        "error: this client configuration's principal (homes-trust) may not write "
        "hub.inbound.police-north.v1: is it agency police-north's?"
    )
    # Waiting, it is refused the receipts topic first, before it sends anything.
    waiting = as_agency(folder, nowhere, *publish_args(enrolled, folder, config))
    assert waiting.returncode == 1, waiting.stdout + waiting.stderr
    assert (
        "(homes-trust) may not read hub.receipts.police-north.v1: is it agency police-north's?"
        in (" ".join(waiting.stderr.split()))
    )


def test_publish_waits_for_the_receipts_of_what_it_sent_and_counts_them(
    enrolled: Enrolled, tmp_path: Path
) -> None:
    folder = agency_folder(enrolled, tmp_path)
    hub = enrolled.kafka.connection
    start = inbound_ends(hub, A)
    publishing = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hub.cli",
            *publish_args(enrolled, folder, f"{A}.properties", "--timeout", "90"),
        ],
        cwd=folder,
        env=agency_env(folder, tmp_path / "no-hub-here"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        messages = read_inbound(hub, start, len(ROWS))  # what `hub gateway` would read
        assert len(messages) == len(ROWS)
        ids = [decode(m.headers, m.value)[0]["id"] for m in messages]
        producer = as_the_hub(hub)
        producer.begin_transaction()
        write_receipts(producer, A, [("someone-else", answer("someone-else", 0))])
        answers = [(i, answer(i, n, rejected=n == 1)) for n, i in enumerate(ids)]
        write_receipts(producer, A, answers)
        producer.commit_transaction()
        producer.close()
        out, err = publishing.communicate(timeout=120)
    finally:
        publishing.kill()
    said = " ".join(out.split())
    assert publishing.returncode == 1, out + err  # one event rejected
    assert f"police-north: event {ids[1]}: data.need: is not a need this test allows" in said
    assert "0 refused at the agency, 2 accepted, 0 duplicate, 1 rejected; sent to" in said
    assert "not answered" not in said


def test_publish_says_how_many_events_are_not_answered_when_no_gateway_runs(
    enrolled: Enrolled, tmp_path: Path
) -> None:
    folder = agency_folder(enrolled, tmp_path)
    done = as_agency(
        folder,
        tmp_path / "no-hub-here",
        *publish_args(enrolled, folder, f"{A}.properties", "--timeout", "3"),
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "3 not answered yet" in " ".join(done.stdout.split())
    said = " ".join(done.stderr.split())
    assert "the hub has not answered 3 of the 3 events sent within 3 s" in said
    assert "is `hub gateway` running? `hub receipts` shows them later" in said


def test_hub_receipts_shows_the_committed_receipts_and_no_aborted_one(
    enrolled: Enrolled, tmp_path: Path
) -> None:
    folder = agency_folder(enrolled, tmp_path)
    hub = enrolled.kafka.connection
    start = receipts_end(hub, A)
    tag = uuid.uuid4().hex[:8]
    producer = as_the_hub(hub)
    producer.begin_transaction()
    write_receipts(producer, A, [(f"ok-{tag}", answer(f"ok-{tag}", 1))])
    write_receipts(producer, A, [(f"bad-{tag}", answer(f"bad-{tag}", 2, rejected=True))])
    producer.commit_transaction()
    producer.begin_transaction()  # a gateway that failed mid-batch: aborted, never answered
    write_receipts(producer, A, [(f"aborted-{tag}", answer(f"aborted-{tag}", 3))])
    producer.flush()
    producer.abort_transaction()
    producer.begin_transaction()
    write_receipts(producer, A, [(f"again-{tag}", answer(f"again-{tag}", 4, status="duplicate"))])
    producer.commit_transaction()
    producer.close()

    nowhere = tmp_path / "no-hub-here"
    config = f"{A}.properties"
    listed = as_agency(
        folder,
        nowhere,
        "receipts",
        "--client-config",
        config,
        "--json",
        "--from-offset",
        str(start),
    )
    assert listed.returncode == 0, listed.stderr
    document = orjson.loads(listed.stdout)
    assert document["agency"] == A  # the client configuration's user
    assert [r["id"] for r in document["receipts"]] == [f"ok-{tag}", f"bad-{tag}", f"again-{tag}"]
    assert document["counts"] == {"accepted": 1, "duplicate": 1, "rejected": 1}
    assert document["unreadable_offsets"] == []
    assert document["next_offset"] > start + 4  # past the aborted record and the markers

    shown = as_agency(
        folder, nowhere, "receipts", "--client-config", config, "--from-offset", str(start)
    )
    assert shown.returncode == 0, shown.stderr
    said = " ".join(shown.stdout.split())
    assert f"{receipts_topic(A)} from offset {start:,}: 3 receipts, 1 accepted" in said
    assert f"bad-{tag}" in said
    assert "is not a need this test allows" in said
    assert f"aborted-{tag}" not in said
    assert not nowhere.exists()


def test_an_agency_cannot_read_another_agencys_receipts(enrolled: Enrolled, tmp_path: Path) -> None:
    folder = agency_folder(enrolled, tmp_path)
    config = f"{A}.properties"
    done = as_agency(
        folder, tmp_path / "no-hub-here", "receipts", "--client-config", config, "--agency", B
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        "this client configuration's principal (police-north) may not read "
        "hub.receipts.homes-trust.v1: is it agency homes-trust's?"
    ) in " ".join(done.stderr.split())


@pytest.fixture(autouse=True)
def _needs_the_hub_principal(enrolled: Enrolled) -> None:
    """These tests write and read as the hub too (as the gateway would)."""
    if enrolled.kafka.client_config is None:
        pytest.skip("no client configuration for the hub principal")
