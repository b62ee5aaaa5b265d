"""The `hub` command: one subcommand per job, each a thin layer over the Python API.

Exit codes: 0 ok, 1 the checked thing failed (rows refused), 2 bad usage or unreadable input.
"""

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from connectors.pseudonym import load_pseudonymiser, new_key_file
from connectors.run import ConnectReport, connect_extract
from connectors.synth import synthesise
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
    """Run the flow on the embedded default: synthesise a place, then every agency's connector.

    Example: `hub demo --data-dir hub-data`
    """
    place_dir = data_dir / "place"
    with _progress() as progress:
        task = progress.add_task("synthesising the place", total=people)
        summary = synthesise(
            place_dir, people=people, seed=seed, progress=lambda n: progress.advance(task, n)
        )
        key_file = data_dir / "place-key.toml"
        if not key_file.exists():
            new_key_file(key_file)
        place = load_place(place_dir / "place.toml")
        pseudonymiser = load_pseudonymiser(key_file)
        reports = []
        rows = progress.add_task("agencies' connectors", total=summary.total_rows)
        for agency in place.agencies:
            reports.append(
                connect_extract(
                    place_dir / "extracts" / f"{agency.slug}.csv",
                    place_dir / "mappings" / f"{agency.slug}.toml",
                    place,
                    pseudonymiser,
                    data_dir / "outbox" / f"{agency.slug}.jsonl",
                    progress=lambda n: progress.advance(rows, n),
                )
            )
    _print_reports(reports, show=5, sectors={a.slug: a.sector for a in place.agencies})
    console.print(
        f"The place [bold]{place.name}[/]: {summary.people:,} people, {len(place.agencies)} "
        f"agencies, {len(place.localities)} localities.\n"
        "Extracts (with names and NHS numbers, as agencies hold them): "
        f"[cyan]{place_dir / 'extracts'}[/]\n"
        f"Pseudonymised events, ready to publish: [cyan]{data_dir / 'outbox'}[/]"
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
