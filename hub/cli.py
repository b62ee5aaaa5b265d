"""The `hub` command: one subcommand per job, each a thin layer over the Python API.

Exit codes: 0 ok, 1 the checked thing failed (rows refused), 2 bad usage or unreadable input.
"""

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from connectors.csv_connector import CsvConnector
from connectors.mapping import load_mapping
from connectors.pseudonym import load_pseudonymiser
from connectors.run import ConnectReport, connect_extract
from connectors.synth import synthesise
from hub.answers import DEMO_VIEWS, Projections, months_back
from hub.api.keys import KeyStore
from hub.audit.cli import audit_app
from hub.bootstrap import Settings, open_hub
from hub.cli_common import DataDir, Kafka, Store, console, errors, progress_bar, settings_of
from hub.demo import AgencyRun, publish, run_demo
from hub.erasure import UnknownRecordError
from hub.erasure import erase as erase_record
from hub.http_publish import HttpPublisher, publish_over_http
from hub.rejected import pending, resend
from hub.worker import GROUP
from projections.disclosure import Cell, ControlledTable
from projections.questions import QUESTIONS
from schemas.errors import HubError
from schemas.place import load_place

app = typer.Typer(
    name="hub",
    help="The Shared Outcomes Hub: agencies' records in, shared answers out, nobody named.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)


@app.command()
def synth(
    out: Annotated[Path, typer.Option(help="Folder to write the place into.")] = Path("place"),
    people: Annotated[int, typer.Option(min=1, help="How many people live in the place.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same place.")] = 1,
    months: Annotated[int, typer.Option(min=1, max=120, help="How many months of records.")] = 24,
    start: Annotated[str, typer.Option(help="First month, YYYY-MM.")] = "2024-01",
) -> None:
    """Synthesise a place: its place file, each agency's extract and mapping, and the truth.

    Example: `hub synth --out place --people 20000 --seed 1`
    """
    with progress_bar() as progress:
        task = progress.add_task("synthesising people", total=people)
        summary = synthesise(
            out,
            people=people,
            seed=seed,
            months=months,
            start=start,
            progress=lambda n: progress.advance(task, n),
        )
    console.print(
        f"[bold]{summary.people:,}[/] people, [bold]{summary.total_rows:,}[/] extract rows "
        f"across {len(summary.rows)} agencies written to [cyan]{out}[/]"
    )


@app.command()
def connect(
    extract: Annotated[Path, typer.Argument(help="The agency's CSV extract.", dir_okay=False)],
    mapping: Annotated[Path, typer.Option(help="The agency's mapping file (TOML).")],
    place: Annotated[Path, typer.Option(help="The place file.")] = Path("place/place.toml"),
    key: Annotated[Path, typer.Option(help="The place key file.")] = Path("place-key.toml"),
    out: Annotated[
        Path | None, typer.Option(help="Where to write the events (JSON lines).")
    ] = None,
) -> None:
    """Run one extract through the agency's connector: pseudonymise, map, validate.

    Refused rows are listed with file, line, column and reason; the exit code is 1 if any was.

    Example:
    `hub connect place/extracts/police-north.csv --mapping place/mappings/police-north.toml`
    """
    the_place = load_place(place)
    target = out or extract.with_suffix(".events.jsonl")
    report = connect_extract(extract, mapping, the_place, load_pseudonymiser(key), target)
    _print_reports([report], show=50)
    console.print(f"events written to [cyan]{target}[/]")
    if report.rejections:
        raise typer.Exit(1)


@app.command()
def demo(
    data_dir: DataDir = Path("hub-data"),
    people: Annotated[int, typer.Option(min=1, help="How many people live in the place.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic place.")] = 1,
    kafka: Kafka = None,
    store: Store = "sqlite",
) -> None:
    """Run the whole hub: a synthetic place's agencies' records in, through connectors,
    ingest, the log and the worker into the event store, then the commissioners' answers.

    On the embedded default with no options; on the real parts with `--kafka` and
    `--store postgres` (start them with deploy/kafka/kafka.sh and deploy/postgres/postgres.sh).

    Example: `hub demo --data-dir hub-data --people 20000`

    Example: `hub demo --kafka 127.0.0.1:9092 --store postgres`
    """
    settings = settings_of(data_dir, kafka, store)
    with progress_bar() as progress, open_hub(settings) as hub:

        def stage(description: str, total: int) -> Callable[[int], None]:
            task = progress.add_task(description, total=total)
            return lambda n: progress.advance(task, n)

        run = run_demo(hub, people, seed, stage)
        with Projections(hub, run.place) as projections:
            projections.catch_up(stage("projections: store to DuckDB", projections.projector.lag()))
            span = projections.months()
            answers = []
            for slug, by, back in DEMO_VIEWS:
                period = (
                    None if span is None or back is None else (months_back(span[1], back), span[1])
                )
                answers.append((slug, by, period, projections.answer(slug, by, period)))
    table = Table(title=f"{run.place.name}: what each agency sent, and what the hub accepted")
    columns = ("agency", "sector", "rows", "refused at agency", "accepted", "duplicate", "rejected")
    for name in columns:
        table.add_column(name, justify="left" if name in {"agency", "sector"} else "right")
    for a in run.agencies:
        numbers = (a.rows, a.refused, a.accepted, a.duplicate, a.rejected)
        table.add_row(a.agency, a.sector, *(f"{n:,}" for n in numbers))
    console.print(table)
    reasons = [reason for a in run.agencies for reason in a.reasons]
    for reason in reasons[:3]:
        console.print(f"  refused: {reason}", highlight=False)
    if len(reasons) > 3:
        console.print(f"  ... and {len(reasons) - 3:,} more; `hub connect` lists them all")
    for slug, by, period, answer_table in answers:
        _print_answer(slug, by, period, answer_table, limit=12)
    console.print(SUPPRESSED_NOTE)
    console.print(
        f"{run.synth.people:,} people, {len(run.place.agencies)} agencies, "
        f"{len(run.place.localities)} localities; the worker applied {run.applied:,} events.\n"
        f"Data folder: [cyan]{data_dir}[/] (extracts as agencies hold them under "
        f"[cyan]{data_dir / 'place' / 'extracts'}[/]); {settings.where()}. "
        "Ask more with `hub query SLUG --by CUT`."
    )
    folder = "" if data_dir == Path("hub-data") else f" --data-dir {data_dir}"
    console.print(
        "\n[bold]See it on the dashboard[/]: make a key, serve the hub, open the page and sign "
        "in with the key:\n"
        f"  hub keys create --role commissioner{folder}   (or steward, auditor)\n"
        f"  hub serve{folder}\n"
        "  then open [cyan]http://127.0.0.1:8000/dashboard[/] in a browser.\n"
        "The ledger is signed and verifiable: `hub audit verify` (see the README's Auditing).",
        highlight=False,
    )


@app.command()
def ingest(
    extract: Annotated[Path, typer.Argument(help="The agency's CSV extract.", dir_okay=False)],
    mapping: Annotated[Path, typer.Option(help="The agency's mapping file (TOML).")],
    agency: Annotated[str, typer.Option(help="The agency sending it (its slug).")],
    place: Annotated[Path, typer.Option(help="The place file.")] = Path(
        "hub-data/place/place.toml"
    ),
    key: Annotated[Path, typer.Option(help="The place key file.")] = Path(
        "hub-data/place-key.toml"
    ),
    data_dir: DataDir = Path("hub-data"),
    kafka: Kafka = None,
    store: Store = "sqlite",
) -> None:
    """Send one extract through its connector into the hub, and apply it to the store.

    Each event is accepted, a duplicate, or rejected with its field and reason; the exit code
    is 1 if any row was refused or rejected.

    Example: `hub ingest police.csv --mapping police.toml --agency police-north`
    """
    the_place = load_place(place)
    the_mapping = load_mapping(mapping, the_place)
    if the_mapping.agency != agency:
        raise HubError(f"{mapping} maps {the_mapping.agency!r}'s extract, not {agency!r}'s")
    connector = CsvConnector(the_mapping, the_place, load_pseudonymiser(key))
    with open_hub(settings_of(data_dir, kafka, store)) as hub:
        run = publish(hub, connector, extract)
        applied = hub.worker.run_until_caught_up()
    _report_run(run, extract.name, f"{applied:,} events applied to the store")


@app.command()
def query(
    slug: Annotated[str, typer.Argument(help=f"The question: {', '.join(QUESTIONS)}.")],
    by: Annotated[
        str, typer.Option(help="Cuts, comma-separated (each question allows its own).")
    ] = "",
    from_: Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM.")] = None,
    to: Annotated[str | None, typer.Option(help="Last month, YYYY-MM.")] = None,
    format_: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    place: Annotated[
        Path | None, typer.Option(help="The place file (default: the data folder's).")
    ] = None,
    data_dir: DataDir = Path("hub-data"),
    kafka: Kafka = None,
    store: Store = "sqlite",
) -> None:
    """Answer one commissioner question, always under disclosure control.

    Example: `hub query demand --by locality,need --from 2025-01 --to 2025-03 --format csv`
    """
    if format_ not in {"table", "csv", "json"}:
        raise HubError(f"--format {format_!r}: choose table, csv or json")
    cuts = [cut.strip() for cut in by.split(",") if cut.strip()]
    period = None
    if from_ or to:
        if not (from_ and to):
            raise HubError("give both --from and --to (whole months, YYYY-MM), or neither")
        period = (from_, to)
    settings = settings_of(data_dir, kafka, store)
    the_place = load_place(place or data_dir / "place" / "place.toml")
    with open_hub(settings) as hub:
        hub.worker.run_until_caught_up()
        with Projections(hub, the_place) as projections:
            projections.catch_up()
            table = projections.answer(slug, cuts, period)
            position = projections.projector.position
    if format_ == "json":
        document = {"question": slug, "by": cuts, "period": period, "position": position}
        sys.stdout.write(
            orjson.dumps(document | table.to_json(), option=orjson.OPT_INDENT_2).decode() + "\n"
        )
    elif format_ == "csv":
        sys.stdout.write(table.to_csv())
    else:
        _print_answer(slug, cuts, period, table, limit=None)
        console.print(SUPPRESSED_NOTE + f" Store position {position:,}.")


@app.command(name="publish")
def publish_command(
    extract: Annotated[Path, typer.Argument(help="The agency's CSV extract.", dir_okay=False)],
    mapping: Annotated[Path, typer.Option(help="The agency's mapping file (TOML).")],
    place: Annotated[Path, typer.Option(help="The place file.")] = Path(
        "hub-data/place/place.toml"
    ),
    key: Annotated[Path, typer.Option(help="The place key file.")] = Path(
        "hub-data/place-key.toml"
    ),
    url: Annotated[
        str | None, typer.Option(envvar="HUB_URL", help="A served hub to send to over HTTP.")
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option("--api-key", envvar="HUB_API_KEY", help="The agency's API key (with --url)."),
    ] = None,
    data_dir: DataDir = Path("hub-data"),
    kafka: Kafka = None,
) -> None:
    """An agency's connector sending one extract: to a served hub over HTTP (`--url` with the
    agency's `--api-key`), or straight to the log (Kafka with `--kafka`), where `hub worker`
    applies it. Every event is accepted, a duplicate, or rejected with its field and reason;
    sending again after a failure duplicates nothing. The exit code is 1 if any row was refused
    or rejected.

    Example: `hub publish police.csv --mapping police.toml --url http://127.0.0.1:8000
    --api-key hub.1a2b3c4d.SECRET`

    Example: `hub publish police.csv --mapping police.toml --kafka 127.0.0.1:9092`
    """
    the_place = load_place(place)
    the_mapping = load_mapping(mapping, the_place)
    connector = CsvConnector(the_mapping, the_place, load_pseudonymiser(key))
    if url is not None:
        if not api_key:
            raise HubError("--url needs the agency's --api-key (from `hub keys create`)")
        with HttpPublisher(url, api_key) as sender:
            run = publish_over_http(sender, connector, extract)
        where = url
    else:
        settings = settings_of(data_dir, kafka, "sqlite")
        with open_hub(settings) as hub:
            run = publish(hub, connector, extract)
        where = settings.where().split(",")[0]
    _report_run(run, f"{extract.name} ({the_mapping.agency})", f"sent to {where}")


@app.command()
def serve(
    data_dir: DataDir = Path("hub-data"),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    kafka: Kafka = None,
    store: Store = "sqlite",
    worker: Annotated[
        bool, typer.Option(help="Apply the log in the server too (off when `hub worker`s run).")
    ] = True,
) -> None:
    """Serve the hub's HTTP API: agencies publish, commissioners ask, stewards agree, auditors
    read. Keys come from `hub keys create`; the API's own page is at /docs.

    Example: `hub serve --data-dir hub-data --port 8000`
    """
    import uvicorn

    from hub.api.app import create_app

    settings = settings_of(data_dir, kafka, store)
    console.print(f"serving {settings.where()} at http://{host}:{port} (docs at /docs)")
    uvicorn.run(create_app(settings, worker=worker), host=host, port=port, log_level="warning")


keys_app = typer.Typer(
    no_args_is_help=True,
    help="API keys: make, list and revoke them (only each key's hash is kept).\n\n"
    "Example: `hub keys create --role commissioner`",
)
app.add_typer(keys_app, name="keys")


@keys_app.command(name="create")
def keys_create(
    role: Annotated[str, typer.Option(help="agency, commissioner, steward or auditor.")],
    agency: Annotated[
        str | None, typer.Option(help="The agency's slug (agency keys only).")
    ] = None,
    data_dir: DataDir = Path("hub-data"),
) -> None:
    """Make a key for a role and print it once (only its hash is kept).

    Example: `hub keys create --role agency --agency police-north`
    """
    with _keys(data_dir) as keys:
        made = keys.create(role, agency)
    console.print(f"key {made.principal.key_id} ({role}{f', {agency}' if agency else ''}):")
    sys.stdout.write(made.token + "\n")
    console.print("[dim]shown once: keep it safe; `hub keys revoke` if it is lost[/]")


@keys_app.command(name="list")
def keys_list(data_dir: DataDir = Path("hub-data")) -> None:
    """List the keys (never the keys themselves): id, role, agency, made, last used, revoked.

    Example: `hub keys list`
    """
    with _keys(data_dir) as keys:
        found = keys.all()
    table = Table(title=f"{len(found)} keys", title_justify="left")
    for name in ("id", "role", "agency", "created", "last used", "revoked"):
        table.add_column(name)
    for k in found:
        table.add_row(
            k.key_id, k.role, k.agency or "", k.created, k.last_used or "", k.revoked or ""
        )
    console.print(table)


@keys_app.command(name="revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (`hub keys list`).")],
    data_dir: DataDir = Path("hub-data"),
) -> None:
    """Revoke a key: from now on it gets 401.

    Example: `hub keys revoke 3fa2c1d0`
    """
    with _keys(data_dir) as keys:
        keys.revoke(key_id)
    console.print(f"key {key_id} revoked")


@contextmanager
def _keys(data_dir: Path) -> Iterator[KeyStore]:
    data_dir.mkdir(parents=True, exist_ok=True)
    keys = KeyStore(data_dir / "access.sqlite")
    try:
        yield keys
    finally:
        keys.close()


@app.command()
def worker(
    data_dir: DataDir = Path("hub-data"),
    kafka: Kafka = None,
    store: Store = "sqlite",
    group: Annotated[
        str, typer.Option(envvar="HUB_WORKER_GROUP", help="The Kafka consumer group.")
    ] = GROUP,
    until_caught_up: Annotated[
        bool, typer.Option(help="Stop once nothing waits in the log (for batch runs).")
    ] = False,
) -> None:
    """Apply the log to the event store until stopped (Ctrl-C or SIGTERM finish the batch in
    hand, save it, and leave). Several workers may run in one group: Kafka shares the log's
    partitions between them, and each resumes from the positions saved in the store.

    Example: `hub worker --kafka 127.0.0.1:9092 --store postgres`
    """
    settings = settings_of(data_dir, kafka, store)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    with open_hub(settings) as hub:
        console.print(f"worker in group {group}: {settings.where()}", highlight=False)
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
app.add_typer(rejected_app, name="rejected")


@rejected_app.callback()
def rejected(
    ctx: typer.Context,
    data_dir: DataDir = Path("hub-data"),
    kafka: Kafka = None,
) -> None:
    """List the entries the worker refused (topic hub.events.rejected.v1), with each one's
    reference, field and reason; `hub rejected resend REF` sends one through again.

    Example: `hub rejected --kafka 127.0.0.1:9092`
    """
    ctx.obj = settings_of(data_dir, kafka, "sqlite")
    if ctx.invoked_subcommand is not None:
        return
    with open_hub(ctx.obj) as hub:
        items = pending(hub.rejected)
    table = Table(title=f"{len(items):,} rejected entries waiting", title_justify="left")
    for name in ("ref", "field", "reason", "at"):
        table.add_column(name)
    for item in items:
        table.add_row(item.ref, item.field, item.reason, item.at)
    console.print(table)


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
        sent = resend(hub.log, hub.rejected, chosen, fixed.read_bytes() if fixed else None)
    console.print(f"sent {sent:,} entries to the log again; the worker applies them next")


@app.command()
def erase(
    recordref: Annotated[
        str, typer.Argument(help="The record's pseudonym, as the agency sent it (`recordref`).")
    ],
    agency: Annotated[str, typer.Option(help="The agency whose record it is (its slug).")],
    data_dir: DataDir = Path("hub-data"),
    kafka: Kafka = None,
    store: Store = "sqlite",
) -> None:
    """Erase one record's personal payload at its agency's request (a legal erasure): its key
    is deleted, so every copy of its events (log, store, Kafka) stays ciphertext nobody can
    open; it is left out of every answer from now on (the projections are loaded again), and
    the audit ledger still verifies. Exit code 2 if the agency has no such record.

    Example: `hub erase --agency police-north 3f1c...e9a0` (the 64-hex recordref)
    """
    with open_hub(settings_of(data_dir, kafka, store)) as hub:
        try:
            done = erase_record(hub, agency, recordref)
        except UnknownRecordError as error:
            errors.print(f"[red]error:[/] {error}", highlight=False)
            raise typer.Exit(2) from None
    when = done.erased_at.isoformat(timespec="seconds")
    said = "was already erased" if done.repeated else "erased"
    console.print(
        f"{agency}'s record {recordref} {said} at {when}: {done.events:,} stored events covered "
        f"(stored as {done.recordref}); the projections are loaded again at the next answer",
        highlight=False,
    )


SUPPRESSED_NOTE = (
    "[dim]*[/] suppressed: a count from 1 to 7, or a figure that would reveal one; "
    "counts are rounded to the nearest 5."
)


def _shown(cell: Cell) -> str:
    return "*" if cell.suppressed else f"{cell.value:,}"


def _print_answer(
    slug: str,
    by: Sequence[str],
    period: tuple[str, str] | None,
    table: ControlledTable,
    limit: int | None,
) -> None:
    span = f", {period[0]} to {period[1]}" if period else ""
    cut = f" by {', '.join(by)}" if by else ""
    out = Table(title=f"{slug}{cut}{span}: {QUESTIONS[slug].description}", title_justify="left")
    measures = table.measures
    for name in (*table.dims, *measures):
        out.add_column(name, justify="right" if name in measures else "left")
    rows = list(table.rows) if limit is None else list(table.rows)[:limit]
    for row in rows:
        out.add_row(
            *(str(row.dims[d]) for d in table.dims), *(_shown(row.cells[m]) for m in measures)
        )
    for row in table.totals:
        dims = (str(row.dims.get(d, "all")) for d in table.dims)
        out.add_row(*dims, *(_shown(row.cells[m]) for m in measures), style="bold")
    console.print(out)
    if limit is not None and len(table.rows) > limit:
        again = f"hub query {slug}" + (f" --by {','.join(by)}" if by else "")
        console.print(f"  ... {len(table.rows) - limit:,} more rows: `{again}`")


def _report_run(run: AgencyRun, what: str, then: str) -> None:
    """An extract's outcome as `hub ingest` and `hub publish` print it; exit 1 if any row was
    refused or any event rejected."""
    for problem in run.reasons[:50]:
        console.print(f"  {problem}", highlight=False)
    console.print(
        f"{what}: {run.refused:,} refused at the agency, {run.accepted:,} accepted, "
        f"{run.duplicate:,} duplicate, {run.rejected:,} rejected; {then}"
    )
    if run.rejected or run.refused:
        raise typer.Exit(1)


def _print_reports(
    reports: list[ConnectReport], show: int, sectors: dict[str, str] | None = None
) -> None:
    table = Table(title="What each agency's connector produced")
    for name in ("agency", "sector", "rows", "events", "refused"):
        table.add_column(name, justify="right" if name in {"rows", "events", "refused"} else "left")
    for r in reports:
        sector = (sectors or {}).get(r.agency, "")
        table.add_row(r.agency, sector, f"{r.rows:,}", f"{r.events:,}", f"{len(r.rejections):,}")
    if len(reports) > 1:
        rows = sum(r.rows for r in reports)
        events = sum(r.events for r in reports)
        refused = sum(len(r.rejections) for r in reports)
        table.add_row("all", "", f"{rows:,}", f"{events:,}", f"{refused:,}", style="bold")
    console.print(table)
    rejections = [rejection for r in reports for rejection in r.rejections]
    for rejection in rejections[:show]:
        console.print(f"  refused: {rejection}", highlight=False)
    if len(rejections) > show:
        console.print(f"  ... and {len(rejections) - show:,} more refused rows")


app.add_typer(audit_app, name="audit")


def main() -> None:
    """Entry point: run the app, turning the hub's errors into a sentence and exit code 2."""
    try:
        app()
    except HubError as exc:
        errors.print(f"[red]error:[/] {exc}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    os.environ.setdefault("COLUMNS", "120")
    main()
