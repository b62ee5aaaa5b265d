"""`hub audit ...`: the auditor's commands on the store (no log or service needed).

Exit codes: 0 ok, 1 the check failed (tampering found), 2 bad usage or unreadable input.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from hub.audit.auditor import Audit, cell_of
from hub.audit.replay import Cut, replay_document
from hub.audit.verify import Verification
from hub.bootstrap import open_audit
from hub.cli.common import DataDir, Store, console, errors, progress_bar, settings_of
from hub.settings import Settings
from projections.asked import parse_cuts, parse_period
from schemas.errors import HubError
from schemas.place import load_place

audit_app = typer.Typer(
    name="audit",
    help="Auditors' commands: verify the store against its ledger and signed checkpoints, "
    "prove events and consistency, replay the past, trace figures.\n\n"
    "Example: `hub audit verify --checkpoint ~/kept/checkpoints.txt`",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

Json = Annotated[bool, typer.Option("--json", help="Print JSON (for tools) instead of text.")]


@contextmanager
def _audit(data_dir: Path, store: str) -> Iterator[tuple[Settings, Audit]]:
    """The opened store's audit; a HubError inside is a sentence and exit code 2."""
    try:
        settings = settings_of(data_dir, None, store)
        if settings.store == "sqlite" and not settings.folder.store.exists():
            raise HubError(f"{data_dir}: no hub store here (run `hub demo` or give --data-dir)")
        with open_audit(settings) as audit:
            yield settings, audit
    except HubError as exc:
        errors.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None


def _print_json(document: Any) -> None:
    console.print_json(orjson.dumps(document).decode())


@audit_app.command("key")
def key(data_dir: DataDir = Path("hub-data"), store: Store = "sqlite") -> None:
    """Print the hub's checkpoint verifier key (a C2SP signed-note Ed25519 verifier key).

    Auditors keep it beside their copy of the checkpoints.
    Example: `hub audit key > hub.vkey`
    """
    with _audit(data_dir, store) as (_, audit):
        print(audit.key.verifier_key())


@audit_app.command("checkpoint")
def checkpoint(data_dir: DataDir = Path("hub-data"), store: Store = "sqlite") -> None:
    """Sign a checkpoint of the ledger now, append it to `audit/checkpoints.txt` and print it.

    The hub also signs one as it goes (every 10,000 leaves or 60 s with new leaves:
    `HUB_CHECKPOINT_EVERY`, `HUB_CHECKPOINT_SECONDS`). Copy the file away to catch a history
    rewritten later.

    Example: `hub audit checkpoint`
    """
    with _audit(data_dir, store) as (_, audit):
        print(audit.checkpoint(), end="")


@audit_app.command("verify")
def verify_command(
    copies: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint",
            help="A checkpoint file kept outside the hub (repeatable); the hub's own file is "
            "always checked.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    as_json: Json = False,
    data_dir: DataDir = Path("hub-data"),
    store: Store = "sqlite",
) -> None:
    """Recompute every leaf of the ledger from the stored events and check the ledger and every
    signed checkpoint; exit 1 naming the first event altered, deleted, inserted or reordered.

    Example: `hub audit verify --checkpoint ~/kept/checkpoints.txt`
    """
    with _audit(data_dir, store) as (_, audit):
        if as_json:
            result = audit.verify(copies or [])
        else:
            with progress_bar() as bar:
                task = bar.add_task("verifying the ledger", total=audit.ledger.size())
                result = audit.verify(copies or [], lambda n: bar.advance(task, n))
                bar.update(task, completed=result.leaves)
        _report(result, as_json)
    if not result.ok:
        raise typer.Exit(1)


def _report(result: Verification, as_json: bool) -> None:
    if as_json:
        problem = result.problem
        _print_json(
            {
                "ok": result.ok,
                "leaves": result.leaves,
                "events": result.events,
                "checkpoints": result.checkpoints,
                "problem": None
                if problem is None
                else {
                    "kind": problem.kind,
                    "message": problem.message,
                    "leaf": problem.leaf,
                    "position": problem.position,
                    "event": problem.event,
                },
            }
        )
        return
    if result.problem is None:
        console.print(
            f"verified: {result.leaves:,} leaves cover the {result.events:,} stored events, "
            f"and {result.checkpoints:,} signed checkpoints match",
            highlight=False,
        )
    else:
        errors.print(f"[red]tampering found ({result.problem.kind}):[/] {result.problem.message}")


@audit_app.command("prove")
def prove(
    leaf: Annotated[int | None, typer.Option("--leaf", help="The leaf index.")] = None,
    event: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--event", help="The agency (slug or URN) and its event id.", show_default=False
        ),
    ] = None,
    size: Annotated[
        int | None, typer.Option("--size", help="The tree size (default: the ledger's now).")
    ] = None,
    as_json: Json = False,
    data_dir: DataDir = Path("hub-data"),
    store: Store = "sqlite",
) -> None:
    """An inclusion proof of one stored event: `{"leafIdx", "treeSize", "root", "leafHash",
    "proof"}` with base64 hashes, as RFC 9162's public test vectors lay them out.

    Example: `hub audit prove --event police-north 1f0c...-v1 --json`
    """
    with _audit(data_dir, store) as (_, audit):
        if (leaf is None) == (event is None):
            raise HubError("give --leaf N or --event SOURCE ID (one of them)")
        index = leaf if leaf is not None else audit.leaf_of_event(*event)  # type: ignore[misc]
        document = audit.prove_leaf(index, size)
    if as_json:
        _print_json(document)
        return
    console.print(
        f"leaf {document['leafIdx']} (hash {document['leafHash']}) is in the tree of "
        f"{document['treeSize']:,} leaves with root {document['root']}; proof:",
        highlight=False,
    )
    for hashed in document["proof"] or []:
        print(f"  {hashed}")


@audit_app.command("consistency")
def consistency(
    size1: Annotated[int, typer.Argument(help="The earlier tree size.")],
    size2: Annotated[int | None, typer.Argument(help="The later size (default: now).")] = None,
    as_json: Json = False,
    data_dir: DataDir = Path("hub-data"),
    store: Store = "sqlite",
) -> None:
    """A consistency proof that the tree of SIZE1 leaves is a prefix of the tree of SIZE2:
    `{"size1", "size2", "root1", "root2", "proof"}`, as RFC 9162's public vectors lay it out.

    Example: `hub audit consistency 1000 2000 --json`
    """
    with _audit(data_dir, store) as (_, audit):
        document = audit.consistency(size1, size2)
    if as_json:
        _print_json(document)
        return
    console.print(
        f"the tree of {document['size1']:,} leaves (root {document['root1']}) is a prefix of "
        f"the tree of {document['size2']:,} (root {document['root2']}); proof:",
        highlight=False,
    )
    for hashed in document["proof"] or []:
        print(f"  {hashed}")


PlaceFile = Annotated[
    Path | None,
    typer.Option(
        "--place", help="The place file (default: DATA_DIR/place/place.toml).", dir_okay=False
    ),
]
From = Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM.")]
To = Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM.")]


@audit_app.command("replay")
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

    Example: `hub audit replay --as-of 2025-03-31T23:59:59Z --question demand --by locality`
    """
    with _audit(data_dir, store) as (settings, audit):
        cut = Cut.asked(as_of, position, basis)
        document = replay_document(
            audit.app,
            audit.keys,
            cut,
            journey=journey,
            partnership=partnership,
            question=question,
            place=lambda: load_place(place_file or settings.folder.place),
            by=parse_cuts(by),
            period=parse_period(start, end),
            exact=exact,
        )
    _print_json(document)


@audit_app.command("trace")
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
    with _audit(data_dir, store) as (settings, audit):
        place = load_place(place_file or settings.folder.place)
        document = audit.trace(place, slug, cell_of(cell), parse_period(start, end))
    _print_json(document)
