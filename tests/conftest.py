"""Shared fixtures: the small test place, its police mapping, and a place key."""

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.mapping import Mapping, load_mapping
from connectors.pseudonym import Pseudonymiser
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


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real broker: KAFKA_BOOTSTRAP_SERVERS where set, else one started by deploy/kafka."""
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield given
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
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(script), "stop"], env=env, capture_output=True, timeout=120)


@pytest.fixture(autouse=True)
def _kafka_for_contract(request: pytest.FixtureRequest) -> None:
    """Give the Kafka contract class its broker (session-scoped) without touching other tests."""
    if request.cls is not None and request.cls.__name__ == "TestKafkaLogContract":
        request.cls.bootstrap = request.getfixturevalue("kafka_bootstrap")


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
