"""The one place where the hub is wired: settings in, application, log, ingest and worker out.

    with open_hub(Settings(data_dir=Path("hub-data"))) as hub:
        hub.ingest.submit("police-north", events)
        hub.worker.run_until_caught_up()

On the embedded default everything lives in the data folder: `hub.db` (the event store,
eventsourcing's SQLite recorder, with the audit ledger beside the events), `log.sqlite` (the
event log), `rejected.sqlite` (entries the worker could not apply), `seen.sqlite` (accepted ids),
`record-keys.sqlite` (each record's payload key, deleted on erasure), `audit/` (the checkpoint
signing key and the signed checkpoints) and `hub-key.toml` (the hub's own pseudonym key, made
on first use, readable by its owner only).

On the production path the log is a Kafka topic (`HUB_KAFKA_BOOTSTRAP`, topic
`hub.events.v1`, rejected entries on `hub.events.rejected.v1`) and the store PostgreSQL
(`HUB_STORE=postgres` with eventsourcing's own `POSTGRES_DBNAME`, `POSTGRES_HOST`,
`POSTGRES_PORT`, `POSTGRES_USER`, `POSTGRES_PASSWORD` and optionally `POSTGRES_SCHEMA`), with
the ledger and the record keys in the same schema; the data folder keeps the other keys, the
checkpoints, the place and the projections.
"""

import os
import secrets
import tomllib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.application import Hub
from hub.audit.auditor import Audit, Checkpointer
from hub.ingest import Ingest, SqliteSeen
from hub.log import DEFAULT_PARTITIONS, EmbeddedLog, EventLog
from hub.sealing import (
    KEYS_FILE,
    EmbeddedRecordKeys,
    OwnConnection,
    PostgresRecordKeys,
    RecordKeys,
)
from hub.worker import GROUP, REJECTED_LOG, Worker
from schemas.errors import HubError

if TYPE_CHECKING:
    import psycopg

TOPIC = "hub.events.v1"
OPEN_LOCK = 0x68756273  # the advisory lock taken while a hub opens its PostgreSQL store


class Settings(BaseSettings):
    """Every choice the hub makes, from the environment (`HUB_*`) or arguments."""

    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore")

    data_dir: Path = Path("hub-data")
    partitions: int = DEFAULT_PARTITIONS
    worker_batch: int = 1000
    kafka_bootstrap: str | None = None
    """Kafka's bootstrap servers (`host:port,...`); none means the embedded log."""
    topic: str = TOPIC
    rejected_topic: str = REJECTED_LOG
    worker_group: str = GROUP
    api_max_body: int = 5 * 1024 * 1024
    """The largest request body `POST /v1/events` takes, in bytes (413 past it)."""
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
            "SQLITE_DBNAME": str(self.data_dir / "hub.db"),
        }

    def where(self) -> str:
        """Where the log and store are, for people to read (no password)."""
        log = f"Kafka at {self.kafka_bootstrap}" if self.kafka_bootstrap else "the embedded log"
        if self.store == "postgres":
            env = self.store_env
            store = f"PostgreSQL {env.get('POSTGRES_HOST')}:{env.get('POSTGRES_PORT', '5432')}"
            store += f"/{env.get('POSTGRES_DBNAME')}"
        else:
            store = str(self.data_dir / "hub.db")
        return f"{log}, store {store}"


@dataclass
class Runtime:
    """The wired hub: its application, log, record keys, ingest and worker."""

    settings: Settings
    app: Hub
    log: EventLog
    rejected: EventLog
    seen: SqliteSeen
    record_keys: RecordKeys
    """One key per record, sealing its events' personal payload; erasure deletes it."""
    ingest: Ingest
    worker: Worker
    audit: Audit
    """The store's audit ledger with its signing key and checkpoint file."""


def hub_key(data_dir: Path) -> bytes:
    """The hub's own pseudonym key: read from the data folder, made there on first use."""
    path = data_dir / "hub-key.toml"
    if not path.exists():
        path.write_text(f'key = "{secrets.token_hex(32)}"\n', encoding="utf-8")
        path.chmod(0o600)
    try:
        return bytes.fromhex(tomllib.loads(path.read_text(encoding="utf-8"))["key"])
    except (tomllib.TOMLDecodeError, KeyError, ValueError) as exc:
        raise HubError(
            f"{path}: not a hub key file ({exc}); move it away to make a new one"
        ) from None


def open_logs(settings: Settings) -> tuple[EventLog, EventLog]:
    """The event log and the rejected log the settings choose (Kafka or embedded)."""
    if settings.kafka_bootstrap:
        from hub.log.kafka import KafkaLog  # only the production path needs kafka-python

        log = KafkaLog(settings.kafka_bootstrap, settings.topic, settings.partitions)
        try:
            return log, KafkaLog(settings.kafka_bootstrap, settings.rejected_topic, 1)
        except BaseException:
            log.close()
            raise
    embedded = EmbeddedLog(settings.data_dir / "log.sqlite", partitions=settings.partitions)
    return embedded, EmbeddedLog(settings.data_dir / "rejected.sqlite", partitions=1)


def postgres_connect(env: dict[str, str]) -> "psycopg.Connection[tuple[Any, ...]]":
    """An autocommit connection from eventsourcing's `POSTGRES_*` settings."""
    import psycopg

    return psycopg.connect(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env.get("POSTGRES_PORT", "5432"),
        user=env.get("POSTGRES_USER"),
        password=env.get("POSTGRES_PASSWORD"),
        autocommit=True,
    )


def open_store(settings: Settings) -> Hub:
    """The event store the settings choose.

    On PostgreSQL the schema is made where absent, and opening is serialised by an advisory
    lock: eventsourcing (re)creates its tables and functions on open, and two processes doing
    that at the same moment (two workers started together) can fail with "tuple concurrently
    updated".
    """
    env = settings.store_env
    if settings.store != "postgres":
        return Hub(env=env)
    from psycopg import sql

    schema = env.get("POSTGRES_SCHEMA")
    with postgres_connect(env) as con:
        con.execute("SELECT pg_advisory_lock(%s)", (OPEN_LOCK,))
        try:
            if schema:
                con.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
                )
            return Hub(env=env)
        finally:
            con.execute("SELECT pg_advisory_unlock(%s)", (OPEN_LOCK,))


@contextmanager
def open_hub(settings: Settings) -> Iterator[Runtime]:
    """Open (creating where absent) the hub the settings describe."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        app = open_store(settings)
        stack.callback(app.close)
        log, rejected = open_logs(settings)
        stack.callback(log.close)
        stack.callback(rejected.close)
        seen = SqliteSeen(settings.data_dir / "seen.sqlite")
        stack.callback(seen.close)
        record_keys: RecordKeys
        if settings.store == "postgres":  # in the store's own schema, on a connection of its own
            env = settings.store_env
            connection = OwnConnection(lambda: postgres_connect(env))
            stack.callback(connection.close)
            record_keys = PostgresRecordKeys(connection, env.get("POSTGRES_SCHEMA"))
        else:
            record_keys = EmbeddedRecordKeys(settings.data_dir / KEYS_FILE)
        stack.callback(record_keys.close)
        audit = Audit(app, settings)
        # Signs the ledger's checkpoints as the worker goes (every `checkpoint_every` leaves, or
        # `checkpoint_seconds` with new ones).
        signer = Checkpointer(audit, settings.checkpoint_every, settings.checkpoint_seconds)
        yield Runtime(
            settings,
            app,
            log,
            rejected,
            seen,
            record_keys,
            Ingest(log, seen, hub_key(settings.data_dir), record_keys),
            Worker(
                app,
                log,
                batch_size=settings.worker_batch,
                rejected=rejected,
                after_save=signer.tick,
            ),
            audit,
        )
