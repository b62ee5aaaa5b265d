"""The ptable of the cell key method (DOMAIN.md, "Disclosure control"): the noise a cell of
true count `value` with cell key `cell_key` (0..255) shows, the same wherever it is asked.

    >>> table = ptable_for(Disclosure())
    >>> table.top, table.max_abs_noise
    (16, 8)
    >>> sorted({3 + table.noise(3, key) for key in range(256)})
    [0, 8]
    >>> table.noise(40, 200) == table.noise(16, 200)
    True

Rows come from `projections.ptable_rows` (Destatis's maximum-entropy method, and where its
conditions cannot all hold, what gives way) for values 0..top, top = threshold + max_noise + 1:
the first value whose outputs reach neither 0 nor 1..threshold, so every row after it is the
same and larger values use row top. Within a row the keys are handed out in order of output,
so the noise never falls as the key rises.

The default place's table is checked in (`projections/ptable/default.csv`, its parameters in
`default.toml`), so the figures the hub has shown do not hang on a platform's floating point;
a test holds the generator to it. `python -m projections.ptable --help` says how to rewrite it.
"""

import argparse
import functools
import math
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from projections.ptable_rows import KEYS, keys, outputs
from schemas.errors import HubError
from schemas.place import Disclosure

PTABLE_DIR = Path(__file__).with_name("ptable")
HEADER = "value,cell_key,noise"


class PtableError(HubError):
    """A ptable that cannot be built or read: parameters out of bounds, or a damaged file."""

    field = "disclosure"


@dataclass(frozen=True, slots=True)
class Ptable:
    """(value, cell_key, noise) for every value 0..top and cell key 0..255, in that order."""

    threshold: int
    max_noise: int
    variance: float
    top: int
    rows: tuple[tuple[int, int, int], ...]

    def __post_init__(self) -> None:
        if len(self.rows) != (self.top + 1) * KEYS or any(
            row[:2] != divmod(n, KEYS) for n, row in enumerate(self.rows)
        ):
            raise PtableError("a ptable needs one row per value 0..top and cell key 0..255")

    def noise(self, value: int, cell_key: int) -> int:
        """The noise a cell of true count `value` and key `cell_key` carries (value > top uses
        row top)."""
        if value < 0 or not 0 <= cell_key < KEYS:
            raise PtableError("the ptable is looked up by a count >= 0 and a cell key 0..255")
        return self.rows[min(value, self.top) * KEYS + cell_key][2]

    @property
    def max_abs_noise(self) -> int:
        """The largest noise, up or down, any shown count carries (published with the rules)."""
        return max(abs(noise) for _, _, noise in self.rows)

    def counts(self, value: int) -> dict[int, int]:
        """How many of the 256 cell keys give each noise in the row of `value`."""
        found: dict[int, int] = {}
        for key in range(KEYS):
            noise = self.noise(value, key)
            found[noise] = found.get(noise, 0) + 1
        return found

    def to_csv(self) -> str:
        return "\n".join([HEADER, *(f"{v},{k},{n}" for v, k, n in self.rows)]) + "\n"

    @classmethod
    def from_csv(cls, text: str, *, threshold: int, max_noise: int, variance: float) -> "Ptable":
        """Read `to_csv`'s text; the parameters are the ones it was generated with."""
        lines = text.splitlines()
        if not lines or lines[0] != HEADER:
            raise PtableError(f"a ptable file starts with the header {HEADER}")
        rows = []
        for number, line in enumerate(lines[1:], start=2):
            fields = line.split(",")
            if len(fields) != 3 or not all(f.lstrip("-").isdigit() for f in fields):
                raise PtableError(f"ptable line {number}: expected three whole numbers ({HEADER})")
            value, key, noise = (int(f) for f in fields)
            rows.append((value, key, noise))
        top = threshold + max_noise + 1
        if len(rows) != (top + 1) * KEYS:
            raise PtableError("the ptable file needs rows for values 0..threshold + max_noise + 1")
        return cls(threshold, max_noise, float(variance), top, tuple(rows))


def generate(threshold: int, max_noise: int, variance: float) -> Ptable:
    """The ptable of these parameters, by `projections.ptable_rows`' method.

    >>> generate(2, 3, 1.0).counts(1)
    {-1: 171, 2: 85}
    """
    check_parameters(threshold, max_noise, variance)
    top = threshold + max_noise + 1
    rows = []
    for value in range(top + 1):
        key = 0
        for output, count in zip(
            outputs(value, threshold, max_noise),
            keys(value, threshold, max_noise, variance),
            strict=True,
        ):
            rows += [(value, k, output - value) for k in range(key, key + count)]
            key += count
    return Ptable(threshold, max_noise, float(variance), top, tuple(rows))


def check_parameters(threshold: int, max_noise: int, variance: float) -> None:
    """Refuse parameters no ptable can meet, naming the field (the same rule as the place's)."""
    if threshold < 1:
        raise PtableError("threshold: must be at least 1", field="disclosure.threshold")
    if max_noise <= threshold:
        raise PtableError(
            "max_noise: must be greater than threshold, or a count just above the threshold "
            "could never move down unbiased: raise max_noise or lower threshold",
            field="disclosure.max_noise",
        )
    if not (variance > 0 and math.isfinite(variance)):
        raise PtableError(
            "noise_variance: must be a number above 0", field="disclosure.noise_variance"
        )


def ptable_for(rules: Disclosure) -> Ptable:
    """The place's ptable: the checked-in one when its parameters are the rules', else
    generated (once per process for each set of parameters)."""
    return _table(rules.threshold, rules.max_noise, rules.noise_variance)


@functools.cache
def _table(threshold: int, max_noise: int, variance: float) -> Ptable:
    parameters = tomllib.loads((PTABLE_DIR / "default.toml").read_text(encoding="utf-8"))
    if (parameters["threshold"], parameters["max_noise"], parameters["noise_variance"]) == (
        threshold,
        max_noise,
        variance,
    ):
        text = (PTABLE_DIR / "default.csv").read_text(encoding="utf-8")
        return Ptable.from_csv(text, threshold=threshold, max_noise=max_noise, variance=variance)
    return generate(threshold, max_noise, variance)


def default_files() -> dict[str, str]:
    """The checked-in files' names and text: the default place's ptable and its parameters."""
    rules = Disclosure()
    table = generate(rules.threshold, rules.max_noise, rules.noise_variance)
    parameters = (
        "# The parameters of default.csv: python -m projections.ptable --write\n"
        f"threshold = {rules.threshold}\nmax_noise = {rules.max_noise}\n"
        f"noise_variance = {rules.noise_variance!r}\n"
    )
    return {"default.csv": table.to_csv(), "default.toml": parameters}


def drifted(directory: Path = PTABLE_DIR) -> list[str]:
    """The checked-in files that differ from what the generator writes (or are missing)."""
    return [
        name
        for name, text in default_files().items()
        if not (directory / name).is_file() or (directory / name).read_text("utf-8") != text
    ]


def summary(table: Ptable) -> str:
    """Each row's mean noise, its variance, its largest noise either way and P(no noise)."""
    lines = ["value  mean_noise  variance  max_abs_noise  p_unchanged"]
    for value in range(table.top + 1):
        counts = table.counts(value)
        mean = sum(n * c for n, c in counts.items()) / KEYS
        variance = sum(n * n * c for n, c in counts.items()) / KEYS - mean * mean
        biggest = max(abs(n) for n in counts)
        same = counts.get(0, 0) / KEYS
        lines.append(f"{value:5}  {mean:+10.4f}  {variance:8.4f}  {biggest:13}  {same:11.4f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m projections.ptable",
        description="The cell key method's ptable: print any parameters' as CSV (or its "
        "rows' statistics), or write or check the default place's checked-in one. "
        "Exit codes: 0 ok, 1 the checked-in table is out of date, 2 bad usage.",
        epilog="examples:\n"
        "  python -m projections.ptable --write      # after changing the generator\n"
        "  python -m projections.ptable --check\n"
        "  python -m projections.ptable --threshold 10 --max-noise 12 --summary",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="rewrite projections/ptable/")
    action.add_argument("--check", action="store_true", help="exit 1 if it is out of date")
    action.add_argument("--summary", action="store_true", help="print each row's statistics")
    defaults = Disclosure()
    parser.add_argument(
        "--threshold", type=int, default=defaults.threshold, help="js (default %(default)s)"
    )
    parser.add_argument(
        "--max-noise", type=int, default=defaults.max_noise, help="D (default %(default)s)"
    )
    parser.add_argument(
        "--variance", type=float, default=defaults.noise_variance, help="V (default %(default)s)"
    )
    args = parser.parse_args(argv)
    chosen = (args.threshold, args.max_noise, args.variance)
    if (args.write or args.check) and chosen != (
        defaults.threshold,
        defaults.max_noise,
        defaults.noise_variance,
    ):
        parser.error(
            "--write and --check are for the default place's parameters: leave out "
            "--threshold, --max-noise and --variance"
        )
    if args.write:
        PTABLE_DIR.mkdir(exist_ok=True)
        for name, text in default_files().items():
            (PTABLE_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote default.csv and default.toml in {PTABLE_DIR}")
        return 0
    if args.check:
        stale = drifted()
        for name in stale:
            print(f"projections/ptable/{name} is out of date: run {parser.prog} --write")
        return 1 if stale else 0
    try:
        table = generate(args.threshold, args.max_noise, args.variance)
    except PtableError as exc:
        print(f"{exc} (see --help)", file=sys.stderr)
        return 2
    print(summary(table) if args.summary else table.to_csv(), end="\n" if args.summary else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
