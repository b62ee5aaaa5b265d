"""`hub audit key|checkpoint|verify|prove|consistency`: the ledger's key, signed checkpoints,
verification against them, and inclusion and consistency proofs."""

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from hub.audit.verification import Verification
from hub.cli.audit_session import Json, opened_audit, print_json
from hub.cli.common import DataDir, Store, console, errors, progress_bar
from schemas.errors import HubError


def key(data_dir: DataDir = Path("hub-data"), store: Store = "sqlite") -> None:
    """Print the hub's checkpoint verifier key (a C2SP signed-note Ed25519 verifier key).

    Auditors keep it beside their copy of the checkpoints.
    Example: `hub audit key > hub.vkey`
    """
    with opened_audit(data_dir, store) as (_, audit):
        print(audit.key.verifier_key())


def checkpoint(data_dir: DataDir = Path("hub-data"), store: Store = "sqlite") -> None:
    """Sign a checkpoint of the ledger now, append it to `audit/checkpoints.txt` and print it.

    The hub also signs one as it goes (every 10,000 leaves or 60 s with new leaves:
    `HUB_CHECKPOINT_EVERY`, `HUB_CHECKPOINT_SECONDS`). Copy the file away to catch a history
    rewritten later.

    Example: `hub audit checkpoint`
    """
    with opened_audit(data_dir, store) as (_, audit):
        print(audit.checkpoint(), end="")


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
    with opened_audit(data_dir, store) as (_, audit):
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
        print_json(
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
        errors.print(
            f"[red]tampering found ({escape(result.problem.kind)}):[/] "
            f"{escape(result.problem.message)}"
        )


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
    with opened_audit(data_dir, store) as (_, audit):
        if (leaf is None) == (event is None):
            raise HubError("give --leaf N or --event SOURCE ID (one of them)")
        index = leaf if leaf is not None else audit.leaf_of_event(*event)  # type: ignore[misc]
        document = audit.prove_leaf(index, size)
    if as_json:
        print_json(document)
        return
    console.print(
        f"leaf {document['leafIdx']} (hash {document['leafHash']}) is in the tree of "
        f"{document['treeSize']:,} leaves with root {document['root']}; proof:",
        highlight=False,
    )
    for hashed in document["proof"] or []:
        print(f"  {hashed}")


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
    with opened_audit(data_dir, store) as (_, audit):
        document = audit.consistency(size1, size2)
    if as_json:
        print_json(document)
        return
    console.print(
        f"the tree of {document['size1']:,} leaves (root {document['root1']}) is a prefix of "
        f"the tree of {document['size2']:,} (root {document['root2']}); proof:",
        highlight=False,
    )
    for hashed in document["proof"] or []:
        print(f"  {hashed}")
