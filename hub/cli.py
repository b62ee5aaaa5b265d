"""The `hub` command: one subcommand per job, each a thin layer over the Python API.

Exit codes: 0 ok, 1 the checked thing failed (rows refused), 2 bad usage or unreadable input.
"""

import csv
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from connectors.csv_connector import CsvConnector
from connectors.mapping import load_mapping
from connectors.pseudonym import load_pseudonymiser
from connectors.run import ConnectReport, connect_extract
from connectors.synth import synthesise
from hub.answers import DEMO_VIEWS, Projections, months_back
from hub.bootstrap import Settings, open_hub
from hub.demo import publish, run_demo
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
console = Console()
errors = Console(stderr=True)

DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar="HUB_DATA_DIR",
        help="Folder for everything the hub writes on the embedded default.",
        file_okay=False,
    ),
]


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
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
    with _progress() as progress:
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
) -> None:
    """Run the whole hub on the embedded default: a synthetic place's agencies' records in,
    through connectors, ingest, the log and the worker into the event store.

    Example: `hub demo --data-dir hub-data --people 20000`
    """
    settings = Settings(data_dir=data_dir)
    with _progress() as progress, open_hub(settings) as hub:

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
        f"[cyan]{data_dir / 'place' / 'extracts'}[/]; the event store is "
        f"[cyan]{data_dir / 'hub.db'}[/]). Ask more with `hub query SLUG --by CUT`."
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
    with open_hub(Settings(data_dir=data_dir)) as hub:
        run = publish(hub, connector, extract)
        applied = hub.worker.run_until_caught_up()
    for problem in run.reasons[:50]:
        console.print(f"  {problem}", highlight=False)
    console.print(
        f"{extract.name}: {run.refused:,} refused at the agency, {run.accepted:,} accepted, "
        f"{run.duplicate:,} duplicate, {run.rejected:,} rejected; "
        f"{applied:,} events applied to the store"
    )
    if run.rejected or run.refused:
        raise typer.Exit(1)


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
    settings = Settings(data_dir=data_dir)
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
        _write_csv(table)
    else:
        _print_answer(slug, cuts, period, table, limit=None)
        console.print(SUPPRESSED_NOTE + f" Store position {position:,}.")


SUPPRESSED_NOTE = (
    "[dim]*[/] suppressed: a count from 1 to 7, or a figure that would reveal one; "
    "counts are rounded to the nearest 5."
)


def _columns(table: ControlledTable) -> list[str]:
    first = (table.rows or table.totals or (None,))[0]
    return [] if first is None else list(first.cells)


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
    measures = _columns(table)
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


def _write_csv(table: ControlledTable) -> None:
    measures = _columns(table)
    writer = csv.writer(sys.stdout)
    writer.writerow([*table.dims, *measures])
    for row in (*table.rows, *table.totals):
        cells = [row.cells[m] for m in measures]
        writer.writerow(
            [row.dims.get(d, "all") for d in table.dims]
            + ["suppressed" if c.suppressed else c.value for c in cells]
        )


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
