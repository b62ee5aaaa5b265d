"""What the tests of the secured broker share: the test place set up on the session's broker with
agencies enrolled through the `hub` command, and Kafka's own console tools as clients."""

import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from hub.log.kafka_client import KafkaConnection
from hub.settings import TOPIC
from tests.conftest import FIXTURES, KafkaService

ROOT = Path(__file__).resolve().parents[2]
KAFKA = ROOT / "deploy" / "kafka" / "kafka.sh"
PLACE = FIXTURES / "place.toml"
A, B, C = "police-north", "homes-trust", "peer-group"  # agencies of the test place
PRODUCER = "org.apache.kafka.tools.ConsoleProducer"
CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer"
ACLS = "org.apache.kafka.tools.AclCommand"


@dataclasses.dataclass(frozen=True)
class Enrolled:
    kafka: KafkaService
    folder: Path

    def java(self, agency: str) -> Path:
        return self.folder / f"{agency}.properties"

    def connection(self, agency: str) -> KafkaConnection:
        return KafkaConnection.from_file(self.java(agency))


def hub_command(kafka: KafkaService, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HUB_KAFKA_BOOTSTRAP": kafka.bootstrap}
    if kafka.client_config is not None:
        env["HUB_KAFKA_CLIENT_CONFIG"] = str(kafka.client_config)
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def console(
    kafka: KafkaService, tool: str, *args: str, feed: str | None = None
) -> subprocess.CompletedProcess[str]:
    """One of Kafka's own tools, by class name, on the broker's jars."""
    env = {**os.environ}
    if kafka.run is not None:
        env["HUB_KAFKA_RUN"] = str(kafka.run)
    return subprocess.run(
        ["bash", str(KAFKA), "run", tool, *args],
        input=feed,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def said(done: subprocess.CompletedProcess[str]) -> str:
    """All a console tool printed (AclCommand reports its errors on standard output)."""
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def enrolled(kafka: KafkaService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Enrolled]:
    """The test place set up on the session's broker, and agencies A and B enrolled."""
    if kafka.client_config is None:
        pytest.skip("the broker given by KAFKA_BOOTSTRAP_SERVERS has no KAFKA_CLIENT_CONFIG")
    folder = tmp_path_factory.mktemp("enrolled")
    for agency in (A, B, C):  # a broker kept from an earlier run may have them enrolled
        hub_command(kafka, "agencies", "revoke", agency)
    done = hub_command(kafka, "kafka", "setup", "--place", str(PLACE))
    assert done.returncode == 0, done.stderr
    again = hub_command(kafka, "kafka", "setup", "--place", str(PLACE))
    assert again.returncode == 0, again.stderr
    assert "0 topics made" in again.stdout, again.stdout  # idempotent
    for agency in (A, B):
        made = hub_command(
            kafka, "agencies", "enrol", agency, "--out", str(folder), "--place", str(PLACE)
        )
        assert made.returncode == 0, made.stderr
    try:
        yield Enrolled(kafka, folder)
    finally:
        for agency in (A, B, C):
            hub_command(kafka, "agencies", "revoke", agency)


def consume(enrolled: Enrolled, agency: str, topic: str, group: str) -> CompletedProcess[str]:
    """Kafka's ConsoleConsumer as `agency` (its Java file), `topic` from the beginning in
    `group`, until 8 s pass with nothing new."""
    return console(
        enrolled.kafka,
        CONSUMER,
        "--bootstrap-server",
        enrolled.kafka.bootstrap,
        "--consumer.config",
        str(enrolled.java(agency)),
        "--topic",
        topic,
        "--group",
        group,
        "--from-beginning",
        "--timeout-ms",
        "8000",
    )


def acl_command(
    kafka: KafkaService, listener: str, address: str, config: Path, *what: str
) -> CompletedProcess[str]:
    """Kafka's AclCommand through `listener` (`--bootstrap-server` or `--bootstrap-controller`)
    at `address`, authenticated by `config`, doing `what` (by default: grant agency A everything
    on the hub's log)."""
    asked = what or (
        "--add",
        "--allow-principal",
        f"User:{A}",
        "--operation",
        "All",
        "--topic",
        TOPIC,
    )
    return console(kafka, ACLS, listener, address, "--command-config", str(config), *asked)
