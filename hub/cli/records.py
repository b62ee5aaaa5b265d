"""The agencies' records into the hub and out again, as the hub: `hub ingest`, `worker`,
`rejected` and `erase` (what an agency runs itself, `hub publish`, is in `agency`)."""

import signal
import threading
import time
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.markup import escape
from rich.table import Table

from connectors.csv_connector import CsvConnector
from connectors.mapping import load_mapping
from connectors.pseudonym import load_pseudonymiser
from hub.bootstrap import Runtime, open_hub, open_projections
from hub.cli.agency import DEFAULT_PLACE_KEY, PlaceKey
from hub.cli.common import ClientConfig, DataDir, Kafka, Store, console, errors, settings_of
from hub.cli.render import report_run
from hub.demo.run import publish
from hub.erasure.erase import UnknownRecordError
from hub.projection.updater import SetAside
from hub.settings import WORKER_GROUP, Settings
from hub.worker.rejected import pending, resend
from schemas.errors import HubError
from schemas.place import load_place


def ingest(
    extract: Annotated[Path, typer.Argument(help="The agency's CSV extract.", dir_okay=False)],
    mapping: Annotated[Path, typer.Option(help="The agency's mapping file (TOML).")],
    agency: Annotated[str, typer.Option(help="The agency sending it (its slug).")],
    place: Annotated[Path, typer.Option(help="The place file.")] = Path(
        "hub-data/place/place.toml"
    ),
    key: PlaceKey = DEFAULT_PLACE_KEY,
    data_dir: DataDir = Path("hub-data"),
    kafka: Kafka = None,
    client_config: ClientConfig = None,
    store: Store = "sqlite",
) -> None:
    """Send one extract through its connector into the hub in this process, and apply it to
    the store: the hub's own path, with its data folder and keys (an agency sends its extracts
    itself with `hub publish`).

    Each event is accepted, a duplicate, or rejected with its field and reason; the exit code
    is 1 if any row was refused or rejected.

    Example: `hub ingest police.csv --mapping police.toml --agency police-north`
    """
    the_place = load_place(place)
    the_mapping = load_mapping(mapping, the_place)
    if the_mapping.agency != agency:
        raise HubError(f"{mapping} maps {the_mapping.agency!r}'s extract, not {agency!r}'s")
    connector = CsvConnector(the_mapping, the_place, load_pseudonymiser(key))
    with open_hub(settings_of(data_dir, kafka, store, client_config)) as hub:
        run = publish(hub, connector, extract)
        applied = hub.worker.run_until_caught_up()
    report_run(run, extract.name, f"{applied:,} events applied to the store")


def worker(
    data_dir: DataDir = Path("hub-data"),
    kafka: Kafka = None,
    client_config: ClientConfig = None,
    store: Store = "sqlite",
    group: Annotated[
        str, typer.Option(envvar="HUB_WORKER_GROUP", help="The Kafka consumer group.")
    ] = WORKER_GROUP,
    until_caught_up: Annotated[
        bool, typer.Option(help="Stop once nothing waits in the log (for batch runs).")
    ] = False,
) -> None:
    """Apply the log to the event store until stopped (Ctrl-C or SIGTERM finish the batch in
    hand, save it, and leave). Several workers may run in one group: Kafka shares the log's
    partitions between them, and each resumes from the positions saved in the store.

    Example: `hub worker --client-config /tmp/hub-kafka/hub.properties --store postgres`
    """
    settings = settings_of(data_dir, kafka, store, client_config)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    with open_hub(settings) as hub:
        console.print(escape(f"worker in group {group}: {settings.where()}"), highlight=False)
        applied = 0
        report_at = time.monotonic() + 5

        def advance(n: int) -> None:
            nonlocal applied, report_at
            applied += n
            if time.monotonic() >= report_at:
                report_at = time.monotonic() + 5
                console.print(f"applied {applied:,}; waiting {hub.worker.lag():,}", highlight=False)

        checked_at = 0.0

        def stop() -> bool:
            nonlocal checked_at
            if stopping.is_set():
                return True
            if until_caught_up and time.monotonic() - checked_at > 1:
                checked_at = time.monotonic()
                return hub.worker.lag() == 0
            return False

        hub.worker.run(stop, advance, group=group)
        console.print(
            f"worker stopped: applied {applied:,}, {hub.worker.rejections:,} rejected, "
            f"{hub.worker.lag():,} waiting",
            highlight=False,
        )


rejected_app = typer.Typer(no_args_is_help=False, invoke_without_command=True)


@rejected_app.callback()
def rejected(
    ctx: typer.Context,
    data_dir: DataDir = Path("hub-data"),
    kafka: Kafka = None,
    client_config: ClientConfig = None,
    store: Store = "sqlite",
) -> None:
    """List the entries the worker refused (topic hub.events.rejected.v1), with each one's
    reference, field and reason; `hub rejected resend REF` sends one through again. Then the
    stored events the projections set aside because they cannot be opened (each one's store
    position, event and reason): left out of every answer, which go on.

    Example: `hub rejected --client-config /tmp/hub-kafka/hub.properties`
    """
    ctx.obj = settings_of(data_dir, kafka, store, client_config)
    if ctx.invoked_subcommand is not None:
        return
    with open_hub(ctx.obj) as hub:
        items = pending(hub.rejected)
        aside = _set_aside(hub)
    table = Table(title=f"{len(items):,} rejected entries waiting", title_justify="left")
    for name in ("ref", "field", "reason", "at"):
        table.add_column(name)
    for item in items:
        table.add_row(*(escape(cell) for cell in (item.ref, item.field, item.reason, item.at)))
    console.print(table)
    table = Table(
        title=f"{len(aside):,} stored events set aside by the projections", title_justify="left"
    )
    for name in ("position", "source", "event", "reason"):
        table.add_column(name)
    for one in aside:
        table.add_row(str(one.position), one.source, one.event_id, one.reason)
    console.print(table)


def _set_aside(hub: Runtime) -> list[SetAside]:
    """The stored events the projections set aside, after loading what waits (none before the
    hub has a place)."""
    place = hub.settings.folder.place
    if not place.exists():
        return []
    try:
        with open_projections(hub, load_place(place)) as projections:
            projections.catch_up()
            return projections.projector.set_aside()
    except duckdb.IOException:
        raise HubError(
            f"{hub.settings.folder.projections} is open in another process (`hub serve`?): "
            "its GET /v1/audit/status lists the events set aside"
        ) from None


@rejected_app.command(name="resend")
def rejected_resend(
    ctx: typer.Context,
    refs: Annotated[list[str] | None, typer.Argument(help="partition:offset of each.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every pending entry.")] = False,
    fixed: Annotated[
        Path | None,
        typer.Option(help="A corrected event (JSON as stored) to send instead of one REF."),
    ] = None,
) -> None:
    """Send rejected entries through the worker again: as they were (the hub was fixed), or
    one replaced by a corrected event.

    Example: `hub rejected resend 3:1041 --fixed corrected.json`
    """
    settings: Settings = ctx.obj
    with open_hub(settings) as hub:
        chosen = [item.ref for item in pending(hub.rejected)] if all_ else list(refs or [])
        if not chosen:
            raise HubError("name the entries to send again (REF ...), or --all")
        sent = resend(
            hub.log,
            hub.rejected,
            chosen,
            gateway=hub.gateway,
            fixed=fixed.read_bytes() if fixed else None,
        )
    console.print(f"sent {sent:,} entries to the log again; the worker applies them next")


def erase(
    recordref: Annotated[
        str, typer.Argument(help="The record's pseudonym, as the agency sent it (`recordref`).")
    ],
    agency: Annotated[str, typer.Option(help="The agency whose record it is (its slug).")],
    data_dir: DataDir = Path("hub-data"),
    kafka: Kafka = None,
    client_config: ClientConfig = None,
    store: Store = "sqlite",
) -> None:
    """Erase one record's personal payload at its agency's request (a legal erasure): its key
    is deleted, so every copy of its events (log, store, Kafka) stays ciphertext nobody can
    open; it is left out of every answer from now on (the projections are loaded again), and
    the audit ledger still verifies. Exit code 2 if the agency has no such record.

    Example: `hub erase --agency police-north 3f1c...e9a0` (the 64-hex recordref)
    """
    with open_hub(settings_of(data_dir, kafka, store, client_config)) as hub:
        try:
            done = hub.erase(agency, recordref)
        except UnknownRecordError as error:
            errors.print(f"[red]error:[/] {escape(str(error))}", highlight=False)
            raise typer.Exit(2) from None
    when = done.erased_at.isoformat(timespec="seconds")
    said = "was already erased" if done.repeated else "erased"
    console.print(
        escape(
            f"{agency}'s record {recordref} {said} at {when}: {done.events:,} stored events "
            f"covered (stored as {done.recordref}); the projections are loaded again at the "
            "next answer"
        ),
        highlight=False,
    )
