"""The disclosure attack (issue 15): every table one commissioner key can get, every shown count
read as the error bound the hub publishes, and LPs bounding every cell whose true value is small.

    release = collect(plan(shapes(place), periods), ask)  # ask(slug, by, period) -> a table
    report = attack(release, shapes(place), Published.perturbation(place.disclosure), exact)
    print(report.summary())

The model (`tests.disclosure_model`): a question's cells are sums of atoms, its finest cells
(demand: month × locality × agency × need per measure, sector being the agency's; repeat_demand:
month × locality × need; bounces: month × from × to), the rows of the whole record's finest
table. A row or total of any table sums the atoms of its month (or of each month of the table's
period) that match its dims. Each distinct cell gets the intersection of the intervals its
appearances allow, and `tests.disclosure_lp` bounds each cell truly 1..threshold, block by
block: a question whose tables all carry month falls apart into months, and measures are
independent unless a row's presence ties them. Only the published rules are used, never how
the hub computes its noise; the auditor's exact rows serve only to pick the cells to bound and
to check the model and the bounds.
"""

import multiprocessing
import os
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix  # type: ignore[import-untyped]

from projections.disclosure import ControlledTable
from projections.questions import QUESTIONS
from tests.disclosure_lp import Block, Stats, Target, Verdict, bound
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


def collect(asked: Sequence[Asked], ask: Ask) -> list[tuple[Asked, ControlledTable]]:
    return [(a, ask(a.slug, a.by, a.period)) for a in asked]


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
            f"{self.tables} tables, {self.cells} distinct cells. Cells truly 1..7:"
            f" {self.targets}; pinned to one value: {self.pinned}; narrowed below their own"
            f" published range: {self.narrowed} ({per}). Cells shown with two figures:"
            f" {self.inconsistent}; cut combinations whose rows depend on the data:"
            f" {len(self.listing)}. {self.stats.lps} LPs ({self.stats.without_lp} verdicts"
            f" without one of their own); {times}."
        )


def attack(
    release: Sequence[tuple[Asked, ControlledTable]],
    shapes: Mapping[str, Shape],
    published: Published,
    exact: Exact,
    threshold: int = 7,
    workers: int | None = None,
) -> Report:
    """Bound every cell of the release whose true value is 1..threshold, the blocks shared out
    among `workers` processes (default: one a core). `exact(slug, by, months)` gives the
    auditor's rows: the truth, and a check that the model adds up."""
    report = Report(tables=len(release))
    started = time.monotonic()
    jobs: list[_Job] = []
    for slug, shape in shapes.items():
        tables = [(a, t) for a, t in release if a.slug == slug]
        model = Model.of(shape, tables, published)
        truth = _truth(model, exact, report)
        values = _values(model, truth)
        _check(model, tables, truth, values, exact, report)
        jobs += _jobs(model, values, published, threshold)
        report.per_question[slug] = (0, 0, 0)
    report.seconds["model"] = time.monotonic() - started
    started = time.monotonic()
    for job, (verdicts, stats) in zip(jobs, _solve_all(jobs, workers), strict=True):
        report.stats.lps += stats.lps
        report.stats.without_lp += stats.without_lp
        _tally(job, verdicts, report)
    report.seconds["LPs"] = time.monotonic() - started
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
    report.inconsistent += len(model.inconsistent)
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


def _jobs(model: Model, values: Truth, published: Published, threshold: int) -> list[_Job]:
    shape = model.shape
    by_month: dict[str, list[tuple[int, CellKey]]] = defaultdict(list)
    for c, key in enumerate(model.cells):
        by_month[key[0] if shape.month_always else ""].append((c, key))
    jobs = []
    for measures, month in _blocks(model, published):
        atoms = [i for i, a in enumerate(model.atoms) if not month or a[0] == month]
        local = np.full(len(model.atoms), -1, dtype=np.int64)
        local[atoms] = np.arange(len(atoms))
        job = _Job(shape.slug, Block(len(measures) * len(atoms)), [], [])
        goal: dict[tuple[int, ...], int] = {}
        for c, key in by_month[month]:
            members = local[model.members(key)]
            for k, m in enumerate(measures):
                lo, hi = model.cells[key][shape.measures.index(m)]
                slots = tuple(sorted(int(v) for v in members + k * len(atoms)))
                job.block.add(slots, lo, hi)
                if 1 <= (value := int(values[m][c])) <= threshold:
                    job.targets.append((m, key, value, goal.setdefault(slots, len(goal))))
        for slots in goal:  # a goal's own interval: all its cells' (they are one sum)
            job.goals.append(Target(slots, *job.block.rows[slots]))
        if not published.perturbed and measures == shape.row_count:
            for a in range(len(atoms)):  # a listed row counts at least one unit
                job.block.add([a + k * len(atoms) for k in range(len(measures))], 1, np.inf)
        jobs.append(job)
    return jobs


def _solve(job: tuple[Block, list[Target]]) -> tuple[list[Verdict], Stats]:
    stats = Stats()
    return bound(job[0], job[1], stats), stats


def _solve_all(jobs: Sequence[_Job], workers: int | None) -> list[tuple[list[Verdict], Stats]]:
    """Each job's verdicts, the largest jobs first, in `workers` processes (spawned: the caller
    may hold threads, DuckDB's among them)."""
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i].block.size * len(jobs[i].goals))
    work = [(jobs[i].block, jobs[i].goals) for i in order]
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        solved = [_solve(w) for w in work]
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            solved = list(pool.map(_solve, work))
    out: list[tuple[list[Verdict], Stats]] = [([], Stats())] * len(jobs)
    for i, result in zip(order, solved, strict=True):
        out[i] = result
    return out


def _tally(job: _Job, verdicts: Sequence[Verdict], report: Report) -> None:
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
