"""The published disclosure rules: `hub disclosure` (as `GET /v1/disclosure` gives them)."""

import sys
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.markup import escape
from rich.table import Table

from hub.cli.answers import PlaceFile, caught_up
from hub.cli.common import ClientConfig, DataDir, Kafka, Store, console, settings_of
from projections.published import disclosure_document
from schemas.place import load_place


def disclosure(
    json_: Annotated[bool, typer.Option("--json", help="The rules as JSON.")] = False,
    place: PlaceFile = None,
    data_dir: DataDir = Path("hub-data"),
    kafka: Kafka = None,
    client_config: ClientConfig = None,
    store: Store = "sqlite",
) -> None:
    """The disclosure rules every commissioner's and steward's figure has passed: the method
    and its parameters, the largest error of any shown count (`max_error`), the period grid
    with the periods the record covers, each question's cuts, and what can be inferred.

    Example: `hub disclosure`

    Example: `hub disclosure --json --data-dir hub-data`
    """
    settings = settings_of(data_dir, kafka, store, client_config)
    the_place = load_place(place or settings.folder.place)
    with caught_up(settings, the_place) as projections:
        months = projections.months()
    document = disclosure_document(the_place, months)
    if json_:
        sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print_rules(document)


def print_rules(document: dict[str, Any]) -> None:
    say = console.print
    say(escape(f"{document['place']}: disclosure control by {document['method']}"), style="bold")
    say(
        escape(
            f"Every count is perturbed by at most {document['max_noise']} (noise variance "
            f"{document['noise_variance']}, cell keys 0..{document['key_range'] - 1}) and "
            f"rounded to the nearest {document['rounding_base']}: any shown count is within "
            f"{document['max_error']} of the true count (max_error)."
        ),
        highlight=False,
    )
    say(escape(document["small_counts"]), highlight=False)
    say(escape(document["suppressed"]), highlight=False)
    periods = document["periods"]
    grid = Table(title="The period grid (--period LABEL; none: the whole record)")
    for name in ("kind", "label", "example", "covers", "in the record"):
        grid.add_column(name)
    counts = Counter(choice["kind"] for choice in periods["choices"])
    for kind in periods["kinds"]:
        labels = [c["label"] for c in periods["choices"] if c["kind"] == kind["kind"]]
        held = f"{counts[kind['kind']]}: {labels[0]} .. {labels[-1]}" if labels else "none yet"
        grid.add_row(
            *(escape(kind[k]) for k in ("kind", "label_format", "example", "covers")),
            escape(held),
        )
    say(grid)
    questions = Table(title="The questions, their cuts and measures")
    for name in ("question", "cuts", "always", "measures"):
        questions.add_column(name)
    for slug, q in document["questions"].items():
        measures = [*q["counts"], *(r["name"] for r in q["rates"])]
        measures += [p["name"] for p in q["percentiles"]]
        questions.add_row(
            escape(slug),
            escape(", ".join(q["cuts"]) or "none"),
            escape(", ".join(q["always"])),
            escape(", ".join(measures)),
        )
    say(questions)
    for heading, key in (("What you can infer", "can"), ("What you cannot infer", "cannot")):
        say(heading, style="bold")
        for sentence in document["inference"][key]:
            say(escape(f"  - {sentence}"), highlight=False)
