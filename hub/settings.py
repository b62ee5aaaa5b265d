"""The hub's settings and the names it writes under: one place for every file, topic and group.

    settings = Settings(data_dir=Path("hub-data"))      # or HUB_* from the environment
    settings.folder.store                                # hub-data/hub.db
    settings.folder.record_keys                          # hub-data/record-keys.sqlite

Everything the hub writes on the embedded default is a file of `DataFolder`; on the production
path the log is a Kafka topic (`topic`, rejected entries on `rejected_topic`) and the store
PostgreSQL (`store = "postgres"` with eventsourcing's own `POSTGRES_*` settings), with the ledger
and the record keys in the same schema; the data folder keeps the other keys, the checkpoints,
the place file and the projections. It never holds the agencies' place key or extracts.
"""

import os
import secrets
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.log import DEFAULT_PARTITIONS
from hub.log.kafka_client import KafkaConnection
from hub.log.topics import inbound_topic as inbound_topic  # each agency's two topics
from hub.log.topics import receipts_topic as receipts_topic
from schemas.errors import HubError

TOPIC = "hub.events.v1"
"""The log every agency event is appended to."""
REJECTED_TOPIC = "hub.events.rejected.v1"
"""The log of entries the worker could not apply, each with its reason."""
WORKER_GROUP = "hub-worker"
"""The reader group of the workers applying the log to the store."""
GATEWAY_GROUP = "hub-gateway"
"""The consumer group of the gateways reading the agencies' inbound topics."""


PRIVATE_UMASK = 0o077
"""What the hub masks off every file and folder it makes: its owner's alone (0600 / 0700)."""

_umask_lock = threading.Lock()
_umask_held = 0
_umask_before = 0


@contextmanager
def private_files() -> Iterator[None]:
    """While open, every file and folder this process makes is its owner's alone: the umask
    (process-wide) gains `PRIVATE_UMASK`, so SQLite's and DuckDB's side files (-wal, -shm,
    .wal), made later than their databases, are private from their first byte too. Nested and
    threaded uses share it; the umask before is put back when the last one closes."""
    global _umask_held, _umask_before
    with _umask_lock:
        if _umask_held == 0:
            _umask_before = os.umask(PRIVATE_UMASK)
            os.umask(_umask_before | PRIVATE_UMASK)
        _umask_held += 1
    try:
        yield
    finally:
        with _umask_lock:
            _umask_held -= 1
            if _umask_held == 0:
                os.umask(_umask_before)


@dataclass(frozen=True)
class DataFolder:
    """Every file and folder the hub writes in its data folder, named once."""

    root: Path
    keys: Path | None = None
    """Where the hub's own pseudonym, gateway and disclosure keys live, if not in the data
    folder (never the place key: that is the agencies')."""

    @property
    def store(self) -> Path:
        """The event store on the embedded default (eventsourcing's SQLite, ledger beside)."""
        return self.root / "hub.db"

    @property
    def log(self) -> Path:
        return self.root / "log.sqlite"

    @property
    def rejected(self) -> Path:
        return self.root / "rejected.sqlite"

    @property
    def seen(self) -> Path:
        """The ids ingest has accepted (its duplicate check)."""
        return self.root / "seen.sqlite"

    @property
    def record_keys(self) -> Path:
        """Each record's payload key (deleted on erasure), on the embedded default."""
        return self.root / "record-keys.sqlite"

    @property
    def hub_key(self) -> Path:
        """The hub's own pseudonym key, made on first use."""
        return (self.keys or self.root) / "hub-key.toml"

    @property
    def gateway_key(self) -> Path:
        """The key of the log's authenticators (`hub.log.authenticator`), made on first use:
        only the hub holds it, so only the hub's ingest writes entries the worker applies."""
        return (self.keys or self.root) / "gateway-key.toml"

    @property
    def disclosure_key(self) -> Path:
        """The key of the cell key method's unit keys, made on first use and never changed
        (a new key would give every cell a second, independent draw of its noise)."""
        return (self.keys or self.root) / "disclosure-key.toml"

    @property
    def access(self) -> Path:
        """The API's keys and its access log."""
        return self.root / "access.sqlite"

    @property
    def projections(self) -> Path:
        """The DuckDB projections (deleted and loaded again on erasure)."""
        return self.root / "projections.duckdb"

    @property
    def audit(self) -> Path:
        """The checkpoint signing key, the signed checkpoints and the last verification."""
        return self.root / "audit"

    @property
    def ledger_key(self) -> Path:
        return self.audit / "ledger-key.pem"

    @property
    def last_verify(self) -> Path:
        return self.audit / "last-verify.json"

    @property
    def place_dir(self) -> Path:
        """The hub's copy of the place: its place file alone (the agencies keep their extracts,
        mappings and place key; the demo's are in its agencies' folder, `hub.demo.agencies`)."""
        return self.root / "place"

    @property
    def place(self) -> Path:
        """The place file the hub answers for."""
        return self.place_dir / "place.toml"


class Settings(BaseSettings):
    """Every choice the hub makes, from the environment (`HUB_*`) or arguments."""

    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore")

    data_dir: Path = Path("hub-data")
    partitions: int = DEFAULT_PARTITIONS
    worker_batch: int = 1000
    kafka_bootstrap: str | None = None
    """Kafka's bootstrap servers (`host:port,...`); none (and no client configuration) means
    the embedded log."""
    kafka_client_config: Path | None = None
    """The hub principal's Kafka client configuration (`HUB_KAFKA_CLIENT_CONFIG`, Java
    properties: TLS and SCRAM, as `deploy/kafka/kafka.sh start` writes it); its
    `bootstrap.servers` is used where `kafka_bootstrap` is not given."""
    topic: str = TOPIC
    rejected_topic: str = REJECTED_TOPIC
    worker_group: str = WORKER_GROUP
    gateway_group: str = GATEWAY_GROUP
    """The gateways' consumer group over the inbound topics (`HUB_GATEWAY_GROUP`)."""
    api_max_body: int = 5 * 1024 * 1024
    """The largest request body any route takes, in bytes (413 past it, before it is parsed)."""
    api_max_batch: int = 1000
    """The most events one request may carry (413 past it)."""
    store: Literal["sqlite", "postgres"] = "sqlite"
    postgres: dict[str, str] = {}
    """eventsourcing's `POSTGRES_*` settings; the environment's are used where absent here."""
    audit_origin: str = "shared-outcomes-hub.invalid/ledger"
    """The first line of every signed checkpoint: name the hub uniquely (`HUB_AUDIT_ORIGIN`,
    e.g. `hub.example-place.gov.uk/ledger`); it is also the signing key's name."""
    checkpoint_every: int = 10_000
    """A checkpoint is signed after this many new ledger leaves..."""
    checkpoint_seconds: float = 60.0
    """...or after this many seconds with any new leaf, whichever comes first."""
    keys_dir: Path | None = None
    """A folder for the hub's own pseudonym, gateway and disclosure keys instead of the data
    folder (`HUB_KEYS_DIR`: a secrets volume, or one place's keys shared by two stores of it).
    Each is made there on first use; the pseudonym and disclosure keys may never change for a
    place (a new gateway key only sets aside what the old one signed and no worker applied)."""

    @property
    def folder(self) -> DataFolder:
        """The files of the data folder."""
        return DataFolder(self.data_dir, self.keys_dir)

    @property
    def kafka(self) -> KafkaConnection | None:
        """How to reach the Kafka cluster of the log, or None for the embedded log."""
        if self.kafka_client_config is not None:
            return KafkaConnection.from_file(self.kafka_client_config, self.kafka_bootstrap)
        if self.kafka_bootstrap:
            return KafkaConnection(self.kafka_bootstrap)
        return None

    @property
    def store_env(self) -> dict[str, str]:
        """eventsourcing's own settings for the chosen store."""
        if self.store == "postgres":
            names = [k for k in os.environ if k.startswith("POSTGRES_")]
            given = {k: os.environ[k] for k in names} | self.postgres
            missing = [k for k in ("POSTGRES_DBNAME", "POSTGRES_HOST") if not given.get(k)]
            if missing:
                raise HubError(
                    f"HUB_STORE=postgres needs {' and '.join(missing)} (eventsourcing's "
                    "PostgreSQL settings); `bash deploy/postgres/postgres.sh start` prints them"
                )
            return {"PERSISTENCE_MODULE": "eventsourcing.postgres", **given}
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(self.folder.store),
        }

    def where(self) -> str:
        """Where the log and store are, for people to read (no password)."""
        kafka = self.kafka
        log = kafka.describe() if kafka is not None else "the embedded log"
        if self.store == "postgres":
            env = self.store_env
            store = f"PostgreSQL {env.get('POSTGRES_HOST')}:{env.get('POSTGRES_PORT', '5432')}"
            store += f"/{env.get('POSTGRES_DBNAME')}"
        else:
            store = str(self.folder.store)
        return f"{log}, store {store}"


def own_key(path: Path, what: str) -> bytes:
    """One of the hub's own 32-byte keys, from its file in the data folder or `keys_dir`
    (`key = "<hex>"`), made there on first use and readable by the hub's user alone; never
    shown."""
    if not path.exists():
        with private_files():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:  # made once: a second process racing here reads the first one's key
                with path.open("x", encoding="utf-8") as made:
                    made.write(f'key = "{secrets.token_hex(32)}"\n')
            except FileExistsError:
                pass
    try:
        return bytes.fromhex(tomllib.loads(path.read_text(encoding="utf-8"))["key"])
    except (tomllib.TOMLDecodeError, KeyError, ValueError) as exc:
        raise HubError(
            f"{path}: not a {what} file ({exc}); move it away to make a new one"
        ) from None
