"""The disclosure attack (issue 15): every table one commissioner key can get, every shown count
read as the error bound the hub publishes, and LPs bounding every cell whose true value is small.

    asked = plan(shapes(place), periods)  # every cut combination for every period
    report = attack(asked, ask, shapes(place), Published.perturbation(place.disclosure), exact)
    print(report.summary())  # ask(slug, by, period) -> a table; exact: the auditor's rows

The model (`tests.disclosure_model`): a question's cells are sums of atoms, its finest cells
(demand: month × locality × agency × need per measure, sector being the agency's; repeat_demand:
month × locality × need; bounces: month × from × to), the rows of the whole record's finest
table. A row or total of any table sums the atoms of its month (or of each month of the table's
period) that match its dims; a cell is one count of one such row. Each distinct cell (the same
atoms: one cell) gets the intersection of the intervals its appearances allow, and
`tests.disclosure_lp` bounds each cell truly 1..threshold, block by block: a question whose
tables all carry month falls apart into months, and measures are independent unless a row's
presence ties them. Only the published rules are used, never how the hub computes its noise;
the auditor's exact rows serve only to pick the cells to bound and to check the model (its
sums, and each shown figure against its published bound).
"""

import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix  # type: ignore[import-untyped]

from projections.disclosure import ControlledTable
from projections.questions import QUESTIONS
from tests.disclosure_highs import Stats
from tests.disclosure_lp import Block, Pool, Target, Verdict
from tests.disclosure_model import Asked, CellKey, Model, Published, Shape, Span, atom_of

Ask = Callable[[str, Sequence[str], object], ControlledTable]
Exact = Callable[[str, Sequence[str], Span | None], list[dict[str, object]]]
Truth = dict[str, NDArray[np.int64]]


def plan(
    shapes: Mapping[str, Shape],
    periods: Sequence[tuple[str, Span | None, object]],
    month_tables_once: bool = False,
) -> list[Asked]:
    """Every cut combination of every question for every period (label, months, as asked).
    `month_tables_once`: a table cut by month is asked for the whole record only (where a
    period's is, cell for cell, the whole record's restricted to the period's months)."""
    return [
        Asked(shape.slug, by, label, months, period)
        for shape in shapes.values()
        for by in shape.cut_sets
        for label, months, period in periods
        if not (month_tables_once and months and (shape.month_always or "month" in by))
    ]


@dataclass
class Report:
    """The attack's figures, and what broke its assumptions."""

    tables: int = 0
    cells: int = 0
    targets: int = 0
    pinned: int = 0
    narrowed: int = 0
    per_question: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    unsound: list[str] = field(default_factory=list)
    infeasible: list[str] = field(default_factory=list)
    inconsistent: int = 0
    listing: list[str] = field(default_factory=list)
    stats: Stats = field(default_factory=Stats)
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        per = "; ".join(
            f"{slug} {t} ({p} pinned, {n} narrowed)"
            for slug, (t, p, n) in self.per_question.items()
        )
        times = ", ".join(f"{k} {v:.0f}s" for k, v in self.seconds.items())
        return (
            f"{self.tables} tables, {self.cells} distinct cells (a count of a row or total)."
            f" Cells truly 1..7:"
            f" {self.targets}; pinned to one value: {self.pinned}; narrowed below their own"
            f" published range: {self.narrowed} ({per}). Sums of units shown with two figures:"
            f" {self.inconsistent}; cut combinations whose rows depend on the data:"
            f" {len(self.listing)}. {self.stats.lps} LPs ({self.stats.without_lp} verdicts"
            f" without one of their own); {times}."
        )


def attack(
    asked: Sequence[Asked],
    ask: Ask,
    shapes: Mapping[str, Shape],
    published: Published,
    exact: Exact,
    threshold: int = 7,
    workers: int | None = None,
) -> Report:
    """Ask every table planned, and bound every cell whose true value is 1..threshold.
    `exact(slug, by, months)` gives the auditor's rows: the truth, and a check that the model
    adds up. Blocks go to `workers` processes (default: one a core) as soon as their question
    is read, so they are solved while the next question's tables are asked; questions whose
    tables need not carry month (their blocks are the largest) come first."""
    report = Report()
    report.seconds = {"collecting": 0.0, "model": 0.0}
    with Pool(workers) as pool:
        solving = []
        for slug, shape in sorted(shapes.items(), key=lambda item: item[1].month_always):
            started = time.monotonic()
            tables = [(a, ask(a.slug, a.by, a.period)) for a in asked if a.slug == slug]
            report.tables += len(tables)
            report.seconds["collecting"] += time.monotonic() - started
            started = time.monotonic()
            model = Model.of(shape, tables, published)
            truth = _truth(model, exact, report)
            values = _values(model, truth)
            _check(model, tables, truth, values, exact, report)
            jobs = sorted(_jobs(model, values, published, threshold), key=_cost, reverse=True)
            solving += [(job, pool.submit(job.block, job.goals)) for job in jobs]
            report.per_question[slug] = (0, 0, 0)
            report.seconds["model"] += time.monotonic() - started
        started = time.monotonic()
        for job, result in solving:
            verdicts, stats = result()
            report.stats.lps += stats.lps
            report.stats.without_lp += stats.without_lp
            _tally(job, verdicts, report)
        report.seconds["LPs after that"] = time.monotonic() - started
    return report


def _truth(model: Model, exact: Exact, report: Report) -> Truth:
    """Each atom's true counts; an atom with some that the model lacks makes it unsound."""
    shape = model.shape
    where = {atom: i for i, atom in enumerate(model.atoms)}
    truth = {m: np.zeros(len(model.atoms), dtype=np.int64) for m in shape.measures}
    for row in exact(shape.slug, list(QUESTIONS[shape.slug].cuts), None):
        atom = atom_of(shape, row)
        if atom in where:
            for m in shape.measures:
                truth[m][where[atom]] = int(str(row[m]))
        elif any(row[m] for m in shape.measures):
            report.unsound.append(f"{shape.slug}: atom {atom} has counts but is not listed")
    return truth


def _value(model: Model, truth: Truth, key: CellKey, measure: str) -> int:
    return int(truth[measure][model.members(key)].sum())


def _values(model: Model, truth: Truth) -> dict[str, NDArray[np.int64]]:
    """Per measure, every cell's true value (in the order of `model.cells`)."""
    members = [model.members(key) for key in model.cells]
    sums = csr_matrix(
        (
            np.ones(sum(map(len, members))),
            np.fromiter((i for m in members for i in m), dtype=np.int64),
            np.cumsum([0, *map(len, members)]),
        ),
        shape=(len(members), len(model.atoms)),
    )
    return {m: np.rint(sums @ truth[m]).astype(np.int64) for m in model.shape.measures}


def _kind(label: str) -> str:
    """A period label's kind: 2025-03 -> 0000-00, FY2024-25 -> FY0000-00."""
    return "".join("0" if ch.isdigit() else ch for ch in label)


def _check(
    model: Model,
    tables: Sequence[tuple[Asked, ControlledTable]],
    truth: Truth,
    values: Truth,
    exact: Exact,
    report: Report,
) -> None:
    """The model against the auditor's rows (the whole record's tables and the first period of
    each kind); each cell's published bounds against the truth (a figure outside its bound
    breaks the rules the hub publishes); the rows listed against the data."""
    shape = model.shape
    first: dict[str, str] = {}
    for asked, _ in tables:
        first.setdefault(_kind(asked.label), asked.label)
    for asked, _ in tables:
        if asked.label not in first.values():
            continue
        columns = QUESTIONS[asked.slug].columns(asked.by)
        for row in exact(asked.slug, asked.by, asked.months):
            key = model.key({c: row[c] for c in columns}, asked.months)
            for m in shape.measures:
                if _value(model, truth, key, m) != row[m]:
                    report.unsound.append(f"{shape.slug} {asked.by} {asked.label} {key} {m}")
    for c, (key, bounds) in enumerate(model.cells.items()):
        for m, (lo, hi) in zip(shape.measures, bounds, strict=True):
            value = int(values[m][c])
            if not lo <= value <= hi:
                report.outside.append(f"{shape.slug} {m} {key}: true {value}, shown {lo}..{hi}")
    report.cells += len(model.cells) * len(shape.measures)
    report.listing += [f"{shape.slug} by {by}" for by, s in model.listing.items() if len(s) > 1]


def _blocks(model: Model, published: Published) -> list[tuple[tuple[str, ...], str]]:
    """Independent blocks: measure groups (a row's presence ties the row-count measures under
    suppression), each month apart where every table carries month ("": all months)."""
    shape = model.shape
    groups: list[tuple[str, ...]] = [(m,) for m in shape.measures]
    if not published.perturbed:
        groups = [shape.row_count, *((m,) for m in shape.measures if m not in shape.row_count)]
    return [(g, month) for g in groups for month in (model.months if shape.month_always else [""])]


@dataclass
class _Job:
    """One block to bound: its goals (distinct sums of atoms), and the cells truly 1..threshold
    (measure, cell, true value, its goal; cells that sum the same atoms share one)."""

    slug: str
    block: Block
    goals: list[Target]
    targets: list[tuple[str, CellKey, int, int]]
    inconsistent: set[tuple[int, ...]] = field(default_factory=set)


def _jobs(model: Model, values: Truth, published: Published, threshold: int) -> list[_Job]:
    shape = model.shape
    by_month: dict[str, list[tuple[int, CellKey]]] = defaultdict(list)
    for c, key in enumerate(model.cells):
        by_month[key[0] if shape.month_always else ""].append((c, key))
    jobs = []
    position = {m: i for i, m in enumerate(model.months)}
    in_month: dict[object, list[int]] = defaultdict(list)
    for i, atom in enumerate(model.atoms):
        in_month[atom[0] if shape.month_always else ""].append(i)
    for measures, month in _blocks(model, published):
        atoms = in_month[month]
        local = np.full(len(model.atoms), -1, dtype=np.int64)
        local[atoms] = np.arange(len(atoms))
        job = _Job(shape.slug, Block(len(measures) * len(atoms)), [], [])
        goal: dict[tuple[int, ...], int] = {}
        shown: dict[tuple[int, ...], object] = {}
        for c, key in by_month[month]:
            members = local[model.members(key)]
            first, last, fixed = key
            for k, m in enumerate(measures):
                lo, hi = model.cells[key][shape.measures.index(m)]
                slots = tuple((members + k * len(atoms)).tolist())  # in order, as members
                span = None if month else ((m, fixed), position[first], position[last])
                job.block.add(slots, lo, hi, span)
                figure = model.figures[key][shape.measures.index(m)]
                if shown.setdefault(slots, figure) != figure or key in model.inconsistent:
                    job.inconsistent.add(slots)
                if 1 <= (value := int(values[m][c])) <= threshold:
                    job.targets.append((m, key, value, goal.setdefault(slots, len(goal))))
        for slots in goal:  # a goal's own interval: all its cells' (they are one sum)
            job.goals.append(Target(slots, *job.block.rows[slots]))
        if not published.perturbed and measures == shape.row_count:
            for a in range(len(atoms)):  # a listed row counts at least one unit
                job.block.add([a + k * len(atoms) for k in range(len(measures))], 1, np.inf)
        jobs.append(job)
    return jobs


def _cost(job: _Job) -> int:
    return job.block.size * len(job.goals)


def _tally(job: _Job, verdicts: Sequence[Verdict] | str, report: Report) -> None:
    report.inconsistent += len(job.inconsistent)
    if isinstance(verdicts, str):
        report.infeasible.append(f"{job.slug}: {verdicts}")
        return
    found = list(report.per_question[job.slug])
    for m, key, value, goal in job.targets:
        v = verdicts[goal]
        if not v.lo <= value <= v.hi:
            report.unsound.append(f"{job.slug} {m} {key}: true {value}, bounds {v}")
        found = [found[0] + 1, found[1] + v.pinned, found[2] + v.narrowed]
        if v.pinned and len(report.examples) < 10:
            report.examples.append(f"{job.slug} {m} {key}: pinned at {v.lo:.0f} (true {value})")
        report.targets += 1
        report.pinned += v.pinned
        report.narrowed += v.narrowed
    report.per_question[job.slug] = (found[0], found[1], found[2])
