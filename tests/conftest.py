"""Shared fixtures: the small test place, its police mapping, and a place key."""

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors.mapping import Mapping, load_mapping
from connectors.pseudonym import Pseudonymiser
from hub.log.kafka_client import KafkaConnection
from schemas.place import Place, load_place

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(os.environ.get("HUB_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))


@pytest.fixture(scope="session")
def place() -> Place:
    return load_place(FIXTURES / "place.toml")


@pytest.fixture(scope="session")
def police_mapping(place: Place) -> Mapping:
    return load_mapping(FIXTURES / "police-north.toml", place)


@pytest.fixture
def pseudonymiser() -> Pseudonymiser:
    return Pseudonymiser(bytes(range(32)), version=1)


@dataclass(frozen=True)
class KafkaService:
    """The session's secured broker: its address, the hub principal's client configuration
    (Java properties), and the run folder `deploy/kafka/kafka.sh` keeps it in (None for a
    broker given by the environment)."""

    bootstrap: str
    client_config: Path | None
    run: Path | None

    @property
    def connection(self) -> KafkaConnection:
        """The hub principal's connection (TLS and SCRAM on the secured broker)."""
        if self.client_config is None:
            return KafkaConnection(self.bootstrap)
        return KafkaConnection.from_file(self.client_config, self.bootstrap)


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaService]:
    """A real, secured broker: KAFKA_BOOTSTRAP_SERVERS with KAFKA_CLIENT_CONFIG where set
    (as `.ci/run` sets them), else one started by deploy/kafka."""
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        config = os.environ.get("KAFKA_CLIENT_CONFIG")
        path = Path(config) if config else None
        run = path.parent if path is not None and (path.parent / "controller").exists() else None
        yield KafkaService(given, path, run)
        return
    script = Path(__file__).resolve().parents[1] / "deploy" / "kafka" / "kafka.sh"
    run = tmp_path_factory.mktemp("kafka")
    env = {**os.environ, "HUB_KAFKA_RUN": str(run)}
    started = subprocess.run(
        ["bash", str(script), "start"], env=env, capture_output=True, text=True, timeout=600
    )
    if started.returncode != 0:
        raise RuntimeError(f"the Kafka broker did not start:\n{started.stderr}")
    try:
        yield KafkaService(started.stdout.strip().splitlines()[-1], run / "hub.properties", run)
    finally:
        subprocess.run(["bash", str(script), "stop"], env=env, capture_output=True, timeout=120)


@pytest.fixture(autouse=True)
def _kafka_for_contract(request: pytest.FixtureRequest) -> None:
    """Give the Kafka contract class its broker (session-scoped) without touching other tests."""
    if request.cls is not None and request.cls.__name__ == "TestKafkaLogContract":
        request.cls.connection = request.getfixturevalue("kafka").connection


@pytest.fixture(scope="session")
def postgres_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """eventsourcing's POSTGRES_* settings for a real server: the environment's where
    POSTGRES_HOST is set, else a throwaway cluster started by deploy/postgres."""
    names = ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD")
    if os.environ.get("POSTGRES_HOST"):
        yield {name: os.environ[name] for name in (*names, "POSTGRES_DBNAME") if name in os.environ}
        return
    script = Path(__file__).resolve().parents[1] / "deploy" / "postgres" / "postgres.sh"
    # Outside pytest's own (root-only) folders: as root the server runs as the postgres user.
    run = Path(tempfile.mkdtemp(prefix="hub-postgres-"))
    run.chmod(0o755)
    env = {**os.environ, "HUB_POSTGRES_RUN": str(run / "cluster")}
    started = subprocess.run(
        ["bash", str(script), "start"], env=env, capture_output=True, text=True, timeout=900
    )
    if started.returncode != 0:
        raise RuntimeError(f"PostgreSQL did not start:\n{started.stderr}")
    settings = dict(line.split("=", 1) for line in started.stdout.split() if "=" in line)
    try:
        yield settings
    finally:
        subprocess.run(["bash", str(script), "stop"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(run, ignore_errors=True)
