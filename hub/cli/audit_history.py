"""`hub audit replay|trace`: the past rebuilt at a cut, and the stored events behind a figure."""

from pathlib import Path
from typing import Annotated

import typer

from hub.audit.auditor import cell_of
from hub.audit.replay import Cut, replay_document
from hub.cli.audit_session import opened_audit, print_json
from hub.cli.common import DataDir, Store
from projections.asked import parse_cuts, parse_period
from projections.periods import span_period
from schemas.place import load_place

PlaceFile = Annotated[
    Path | None,
    typer.Option(
        "--place", help="The place file (default: DATA_DIR/place/place.toml).", dir_okay=False
    ),
]
From = Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM.")]
To = Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM.")]


def replay(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="An RFC 3339 time, e.g. 2025-03-31T23:59:59Z.")
    ] = None,
    position: Annotated[
        int | None, typer.Option("--position", help="A store position (record basis).")
    ] = None,
    basis: Annotated[
        str,
        typer.Option(
            "--basis",
            help="record: what the hub had stored by then; event: what is now known to have "
            "happened by then (late arrivals included).",
        ),
    ] = "record",
    journey: Annotated[
        str | None, typer.Option("--journey", help="A person's hub pseudonym.")
    ] = None,
    partnership: Annotated[
        str | None, typer.Option("--partnership", help="A partnership's slug.")
    ] = None,
    question: Annotated[
        str | None, typer.Option("--question", help="A question's slug (e.g. demand).")
    ] = None,
    by: Annotated[str, typer.Option("--by", help="The question's cuts, comma-separated.")] = "",
    start: From = None,
    end: To = None,
    exact: Annotated[
        bool, typer.Option("--exact", help="A question's exact figures (auditors only).")
    ] = False,
    place_file: PlaceFile = None,
    data_dir: DataDir = Path("hub-data"),
    store: Store = "sqlite",
) -> None:
    """Rebuild a journey, the partnership or a question's answer as the hub knew it at a past
    moment (record basis) or as it is now known to have been (event basis); prints JSON.
    A question is controlled as commissioners get it unless `--exact`: then `--from`/`--to`
    must name one period of the grid (a month, quarter, financial or calendar year).

    Example: `hub audit replay --as-of 2025-03-31T23:59:59Z --question demand --by locality`
    """
    period = parse_period(start, end)
    if question is not None and not exact and period is not None:
        span_period(*period)  # controlled figures only for one grid period, as commissioners'
    with opened_audit(data_dir, store) as (settings, audit):
        cut = Cut.asked(as_of, position, basis)
        document = replay_document(
            audit.app,
            audit.keys,
            audit.unit_keys,
            cut,
            journey=journey,
            partnership=partnership,
            question=question,
            place=lambda: load_place(place_file or settings.folder.place),
            by=parse_cuts(by),
            period=period,
            exact=exact,
        )
    print_json(document)


def trace(
    slug: Annotated[str, typer.Argument(help="The question (e.g. demand).")],
    cell: Annotated[
        str,
        typer.Option(
            "--cell", help="The figure's cell: CUT=VALUE,... including month (e.g. month=2025-03)."
        ),
    ],
    start: From = None,
    end: To = None,
    place_file: PlaceFile = None,
    data_dir: DataDir = Path("hub-data"),
    store: Store = "sqlite",
) -> None:
    """The stored events behind one exact figure (auditors only): each with its leaf, agency,
    event id, record reference and inclusion proof; per count, their number is the figure.

    Example: `hub audit trace demand --cell month=2025-03,locality=north-ward`
    """
    with opened_audit(data_dir, store) as (settings, audit):
        place = load_place(place_file or settings.folder.place)
        document = audit.trace(place, slug, cell_of(cell), parse_period(start, end))
    print_json(document)
