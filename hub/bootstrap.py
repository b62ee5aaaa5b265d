"""The one place where the hub is wired: settings in, the opened parts out.

    with open_hub(Settings(data_dir=Path("hub-data"))) as hub:
        hub.ingest.submit("police-north", events)
        hub.worker.run_until_caught_up()
        with open_projections(hub, place) as projections:
            projections.answer("demand", ["sector"], None)

Each part comes from the settings (`hub.settings`): the log is the embedded one in the data
folder or a Kafka topic; the store eventsourcing's SQLite recorder in the data folder or its
PostgreSQL recorder, the audit ledger beside the events either way; the record keys beside the
store (a SQLite file, or a table in the store's PostgreSQL schema). The gateway key signs what
ingest and `hub rejected resend` append, and the worker applies only what it signed. Nothing
else opens a store, a log or a key file: the stages take what they need as arguments.
"""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.access.keys import KeyStore
from hub.audit.auditor import Audit, Checkpointer
from hub.erasure.erase import Erasure, erase
from hub.gateway import Gateway
from hub.ingest.seen import Seen, SqliteSeen
from hub.ingest.seen_postgres import PostgresSeen
from hub.ingest.service import Ingest
from hub.keys.port import RecordKeys
from hub.keys.postgres import OwnConnection, PostgresRecordKeys
from hub.keys.sqlite import EmbeddedRecordKeys
from hub.log import Authenticator, EmbeddedLog, EventLog
from hub.projection.answers import Projections
from hub.settings import Settings, own_key, private_files
from hub.store.application import Hub
from hub.worker.worker import Worker
from projections.unit_keys import UnitKeys
from schemas.errors import HubError
from schemas.place import Place

if TYPE_CHECKING:
    import psycopg

OPEN_LOCK = 0x68756273  # the advisory lock taken while a hub opens its PostgreSQL store


@dataclass
class Runtime:
    """The wired hub: its application, log, record keys, ingest and worker."""

    settings: Settings
    app: Hub
    log: EventLog
    rejected: EventLog
    seen: Seen
    """Ingest's duplicate set: beside the store (a SQLite file, or a PostgreSQL table)."""
    record_keys: RecordKeys
    """One key per record, sealing its events' personal payload; erasure deletes it."""
    ingest: Ingest
    worker: Worker
    audit: Audit
    """The store's audit ledger with its signing key and checkpoint file."""
    gateway: Authenticator
    """The log's authenticator (the data folder's gateway key): what ingest and resend sign
    with, and what the worker checks every entry against."""

    @property
    def unit_keys(self) -> UnitKeys:
        """The cell key method's unit keys (the data folder's disclosure key)."""
        return self.audit.unit_keys

    def erase(self, agency: str, recordref: str) -> Erasure:
        """Erase one of `agency`'s records (`hub.erasure`): its key, then the projections."""
        return erase(
            self.record_keys, self.ingest.rekey, self.app, self.settings.folder, agency, recordref
        )


def hub_key(settings: Settings) -> bytes:
    """The hub's own pseudonym key: read from the data folder, made there on first use."""
    return own_key(settings.folder.hub_key, "hub key")


def gateway(settings: Settings) -> Authenticator:
    """The log's authenticator, under the gateway key: read from the data folder (or
    `keys_dir`), made there on first use."""
    return Authenticator(own_key(settings.folder.gateway_key, "gateway key"))


def open_logs(settings: Settings) -> tuple[EventLog, EventLog]:
    """The event log and the rejected log the settings choose (Kafka or embedded)."""
    connection = settings.kafka
    if connection is not None:
        from hub.log.kafka import KafkaLog  # only the production path needs kafka-python

        log = KafkaLog(connection, settings.topic, settings.partitions)
        try:
            return log, KafkaLog(connection, settings.rejected_topic, 1)
        except BaseException:
            log.close()
            raise
    folder = settings.folder
    embedded = EmbeddedLog(folder.log, partitions=settings.partitions)
    return embedded, EmbeddedLog(folder.rejected, partitions=1)


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
        with private_files():  # hub.db and its -wal and -shm: the owner's alone
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            return Hub(env=env)
    with postgres_opening(env):
        return Hub(env=env)


@contextmanager
def postgres_opening(env: dict[str, str]) -> Iterator[None]:
    """Hold the opening lock, with the store's schema made where absent (see `open_store`)."""
    from psycopg import sql

    schema = env.get("POSTGRES_SCHEMA")
    with postgres_connect(env) as con:
        con.execute("SELECT pg_advisory_lock(%s)", (OPEN_LOCK,))
        try:
            if schema:
                con.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
                )
            yield
        finally:
            con.execute("SELECT pg_advisory_unlock(%s)", (OPEN_LOCK,))


def open_record_keys(settings: Settings, stack: ExitStack) -> RecordKeys:
    """The record-key store beside the settings' event store, closed with `stack`: a SQLite
    file in the data folder, or a table in the PostgreSQL store's schema (on a connection of
    its own)."""
    record_keys: RecordKeys
    if settings.store == "postgres":
        env = settings.store_env
        connection = OwnConnection(lambda: postgres_connect(env))
        stack.callback(connection.close)
        record_keys = PostgresRecordKeys(connection, env.get("POSTGRES_SCHEMA"))
    else:
        record_keys = EmbeddedRecordKeys(settings.folder.record_keys)
    stack.callback(record_keys.close)
    return record_keys


def open_seen(settings: Settings, stack: ExitStack) -> Seen:
    """Ingest's duplicate set beside the settings' event store, closed with `stack`: a SQLite
    file in the data folder, or the table `hub_seen` in the PostgreSQL store's schema (on a
    connection of its own), which every gateway of the place shares."""
    seen: Seen
    if settings.store == "postgres":
        env = settings.store_env
        connection = OwnConnection(lambda: postgres_connect(env))
        stack.callback(connection.close)
        seen = PostgresSeen(connection, env.get("POSTGRES_SCHEMA"))
    else:
        seen = SqliteSeen(settings.folder.seen)
    stack.callback(seen.close)
    return seen


def record_keys_of(app: Hub) -> RecordKeys:
    """The record-key store that goes with an opened event store (as `open_hub` opens it): the
    file beside a SQLite store's file, or the PostgreSQL store's own schema, through the
    store's own connections. The caller closes it."""
    from eventsourcing.postgres import PostgresApplicationRecorder
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    recorder = app.recorder
    if isinstance(recorder, SQLiteApplicationRecorder):
        name = recorder.datastore.pool.db_name
        if not name.startswith(("file:", ":memory:")):
            return EmbeddedRecordKeys(Settings(data_dir=Path(name).parent).folder.record_keys)
    if isinstance(recorder, PostgresApplicationRecorder):
        datastore = recorder.datastore
        return PostgresRecordKeys(datastore.get_connection, datastore.schema)
    raise HubError("an in-memory event store has no record keys beside it: pass the key store")


def open_access(settings: Settings) -> KeyStore:
    """The API's key store and access log in the data folder (the caller closes it)."""
    with private_files():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return KeyStore(settings.folder.access)


@contextmanager
def open_audit(settings: Settings) -> Iterator[Audit]:
    """The audit of the settings' store alone (no log, no ingest): for the auditor's commands.
    Every file it writes while open is its owner's alone (`private_files`)."""
    with private_files(), ExitStack() as stack:
        app = open_store(settings)
        stack.callback(app.close)
        yield Audit(app, settings, open_record_keys(settings, stack))


@contextmanager
def open_hub(settings: Settings) -> Iterator[Runtime]:
    """Open (creating where absent) the hub the settings describe. While it is open every file
    and folder the process makes is its owner's alone (0600 / 0700, `private_files`): the data
    folder, the stores, the keys, the projections and their side files from their first write."""
    with private_files(), ExitStack() as stack:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        app = open_store(settings)
        stack.callback(app.close)
        log, rejected = open_logs(settings)
        stack.callback(log.close)
        stack.callback(rejected.close)
        seen = open_seen(settings, stack)
        record_keys = open_record_keys(settings, stack)
        audit = Audit(app, settings, record_keys)
        # Signs the ledger's checkpoints as the worker goes (every `checkpoint_every` leaves, or
        # `checkpoint_seconds` with new ones).
        signer = Checkpointer(audit, settings.checkpoint_every, settings.checkpoint_seconds)
        authenticator = gateway(settings)  # the worker is never wired without it
        yield Runtime(
            settings,
            app,
            log,
            rejected,
            seen,
            record_keys,
            Ingest(log, seen, hub_key(settings), record_keys, authenticator),
            Worker(
                app,
                log,
                batch_size=settings.worker_batch,
                rejected=rejected,
                after_save=signer.tick,
                keys=record_keys,
                gateway=authenticator,
            ),
            audit,
            authenticator,
        )


@contextmanager
def open_gateway(settings: Settings, instance: str = "1") -> Iterator[Gateway]:
    """A gateway (`hub.gateway`) on the settings' Kafka broker: the hub's ingest (its key, the
    record keys and duplicate set beside the settings' store, the gateway key) without the
    event store, which the gateway never touches."""
    connection = settings.kafka
    if connection is None:
        raise HubError(
            "the gateway reads agencies' inbound Kafka topics: give --kafka HOST:PORT or "
            "--client-config hub.properties (the embedded default has no gateway)",
            field="kafka",
        )
    with private_files(), ExitStack() as stack:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if settings.store == "postgres":
            with postgres_opening(settings.store_env):  # its schema, before any table in it
                pass
        log, rejected = open_logs(settings)  # the topics made where absent
        stack.callback(log.close)
        rejected.close()
        seen = open_seen(settings, stack)
        record_keys = open_record_keys(settings, stack)
        ingest = Ingest(log, seen, hub_key(settings), record_keys, gateway(settings))
        group, topic, partitions = settings.gateway_group, settings.topic, settings.partitions
        the_gateway = Gateway(connection, ingest, instance, group, topic, partitions)
        stack.callback(the_gateway.close)
        yield the_gateway


def open_projections(hub: Runtime, place: Place) -> Projections:
    """The projections of the hub's data folder (`with` closes them), for `place`."""
    return Projections(
        hub.app, hub.record_keys, hub.unit_keys, hub.settings.folder.projections, place
    )
