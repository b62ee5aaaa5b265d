"""Benchmark: CSV rows per second through connector + pseudonymiser + validation, against the
raw rate of reading the same files with Python's csv module and one HMAC per row; and the peak
memory of synthesising a place, against a bare interpreter with the same imports.

    python bench/connectors.py                       # 1,000,000+ rows, 3 repeats, 1M-person synth
    python bench/connectors.py --rows 200000 --memory-people 100000 --repeat 1   # a quick look

Prints each figure beside its baseline, measured in the same run, and the ratio (medians).
"""

import argparse
import csv
import hmac
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors.csv_connector import CsvConnector
from connectors.mapping import Mapping, load_mapping
from connectors.pseudonym import Pseudonymiser
from connectors.synth import synthesise
from schemas.place import Place, load_place

KEY = bytes(range(32))
ROWS_PER_PERSON = 4.2  # measured on the default synthetic place (84,621 rows for 20,000 people)


def prepare(folder: Path, rows: int) -> Path:
    """A synthetic place whose extracts hold at least `rows` rows in all (kept between runs)."""
    people = math.ceil(rows / ROWS_PER_PERSON)
    marker = folder / "bench.json"
    if marker.exists() and json.loads(marker.read_text()).get("people") == people:
        return folder
    print(f"synthesising {people:,} people into {folder} ...", flush=True)
    summary = synthesise(folder, people=people, seed=1)
    if summary.total_rows < rows:
        return prepare(folder, math.ceil(rows * rows / summary.total_rows))
    marker.write_text(json.dumps({"people": people, "rows": summary.total_rows}))
    return folder


def extracts(folder: Path) -> tuple[Place, list[tuple[Path, Mapping]]]:
    place = load_place(folder / "place.toml")
    pairs = [
        (
            folder / "extracts" / f"{a.slug}.csv",
            load_mapping(folder / "mappings" / f"{a.slug}.toml", place),
        )
        for a in place.agencies
    ]
    return place, pairs


def raw_pass(pairs: list[tuple[Path, Mapping]]) -> int:
    """The baseline: csv.reader over the same files, one HMAC-SHA256 of the record cell a row."""
    rows = 0
    for path, mapping in pairs:
        with path.open(encoding=mapping.encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=mapping.delimiter)
            column = next(reader).index(mapping.columns.record_ref)
            for row in reader:
                if row:
                    hmac.digest(KEY, row[column].encode(), "sha256").hex()
                    rows += 1
    return rows


def hub_pass(place: Place, pairs: list[tuple[Path, Mapping]]) -> int:
    """The connector: read, pseudonymise, map to events and validate them against the schema."""
    rows = 0
    pseudonymiser = Pseudonymiser(KEY, 1)
    for path, mapping in pairs:
        for batch in CsvConnector(mapping, place, pseudonymiser).read(path):
            rows += batch.rows
    return rows


def timed(run: object, *args: object) -> tuple[float, int]:
    start = time.perf_counter()
    rows = run(*args)  # type: ignore[operator]
    return time.perf_counter() - start, rows


def peak_rss_mib(code: str) -> float:
    """Peak resident memory of a fresh interpreter running `code` (ru_maxrss of the child)."""
    probe = (
        "import resource, subprocess, sys\n"
        "subprocess.run([sys.executable, '-c', sys.argv[1]], check=True, cwd=sys.argv[2])\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, code, str(ROOT)], check=True, capture_output=True, text=True
    )
    return int(out.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="rows in all (default 1,000,000)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each (default 3)")
    parser.add_argument(
        "--workdir", type=Path, default=ROOT / "bench-data", help="where to synthesise"
    )
    parser.add_argument(
        "--memory-people",
        type=int,
        default=1_000_000,
        help="people for the memory run (0 skips it)",
    )
    args = parser.parse_args()

    place, pairs = extracts(prepare(args.workdir / f"place-{args.rows}", args.rows))
    raw, hub = [], []
    for round_ in range(1, args.repeat + 1):
        seconds, raw_rows = timed(raw_pass, pairs)
        raw.append(raw_rows / seconds)
        seconds, hub_rows = timed(hub_pass, place, pairs)
        hub.append(hub_rows / seconds)
        assert raw_rows == hub_rows, (raw_rows, hub_rows)
        print(f"  run {round_}: raw {raw[-1]:,.0f} rows/s, hub {hub[-1]:,.0f} rows/s", flush=True)
    raw_rate, hub_rate = statistics.median(raw), statistics.median(hub)
    print(f"connector: {hub_rows:,} rows in {len(pairs)} extracts, median of {args.repeat}")
    print(f"  raw csv + one HMAC a row : {raw_rate:12,.0f} rows/s")
    print(f"  hub connector            : {hub_rate:12,.0f} rows/s")
    print(f"  ratio hub/raw            : {hub_rate / raw_rate:12.2f}   (target >= 0.5)")

    if args.memory_people:
        out = args.workdir / "memory-place"
        synth = (
            "from pathlib import Path; from connectors.synth import synthesise; "
            f"synthesise(Path({str(out)!r}), people={args.memory_people})"
        )
        bare = "import connectors.synth, connectors.csv_connector"
        print(f"synthesising {args.memory_people:,} people for the memory figure ...", flush=True)
        peak, floor = peak_rss_mib(synth), peak_rss_mib(bare)
        print(f"synthesis of {args.memory_people:,} people, peak resident memory")
        print(f"  bare interpreter, same imports: {floor:8.0f} MiB")
        print(f"  synthesis                     : {peak:8.0f} MiB   (target <= 1024 MiB)")
        print(f"  ratio                         : {peak / floor:8.2f}")


if __name__ == "__main__":
    main()
