"""What an attacker makes of a release: each distinct cell, the true values its figures allow
under the published rules, and the atoms it sums (see `tests.disclosure_attack`).

    model = Model.of(shape, tables, Published.perturbation(place.disclosure))
    model.cells[key]  # per measure, the interval of true values (lo, hi)
    model.members(key)  # the atoms the cell sums
"""

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from projections.disclosure import Cell, ControlledTable
from projections.questions import QUESTIONS
from schemas.place import Disclosure, Place

Span = tuple[str, str]
Fixed = tuple[tuple[str, object], ...]
CellKey = tuple[str, str, Fixed]
"""A cell, all its measures: its first and last months and the dims it fixes."""
Interval = tuple[float, float]
# Per question: the measures whose sum counts a row's units (a listed row has some), and the
# dims that are a function of another (the dim they follow, through the place's agencies).
ROW_COUNT = {
    "demand": ("count_referrals", "count_contacts"),
    "repeat_demand": ("count_people",),
    "bounces": ("count_declined",),
}
FOLLOWS = {"demand": {"sector": "agency"}}


@dataclass(frozen=True)
class Shape:
    """How a question's cells add up: atoms month × `dims`, and its cut combinations."""

    slug: str
    dims: tuple[str, ...]
    derived: Mapping[str, tuple[str, Mapping[object, object]]]
    measures: tuple[str, ...]
    row_count: tuple[str, ...]
    cut_sets: tuple[tuple[str, ...], ...]
    month_always: bool


def shapes(place: Place, slugs: Iterable[str] = tuple(ROW_COUNT)) -> dict[str, Shape]:
    """The attacked questions' shapes, every cut combination each allows."""
    sector_of: dict[object, object] = {a.slug: a.sector for a in place.agencies}
    out = {}
    for slug in slugs:
        q = QUESTIONS[slug]
        derived = {d: (src, sector_of) for d, src in FOLLOWS.get(slug, {}).items()}
        cuts = list(q.cuts)
        out[slug] = Shape(
            slug,
            tuple(c for c in q.columns(cuts) if c != "month" and c not in derived),
            derived,
            q.counts,
            ROW_COUNT[slug],
            tuple(c for n in range(len(cuts) + 1) for c in itertools.combinations(cuts, n)),
            "month" in q.always,
        )
    return out


@dataclass(frozen=True)
class Published:
    """What a shown count tells an attacker, from the place's published rules alone."""

    threshold: int
    rounding_base: int
    max_noise: int
    perturbed: bool

    @classmethod
    def perturbation(cls, rules: Disclosure) -> "Published":
        """The new rules: |shown - true| <= max_noise + base // 2, and a true 0 shows as 0."""
        return cls(rules.threshold, rules.rounding_base, rules.max_noise, perturbed=True)

    @classmethod
    def suppression(cls, rules: Disclosure) -> "Published":
        """The old rules: 1..threshold suppressed, the rest rounded; a shown 0 is a true 0."""
        return cls(rules.threshold, rules.rounding_base, 0, perturbed=False)

    def interval(self, cell: Cell) -> Interval:
        """The true values a cell allows (a suppressed one: any at all)."""
        if cell.suppressed or cell.value is None:
            return 0.0, math.inf
        v, half = cell.value, self.rounding_base // 2
        if self.perturbed:
            return max(v - self.max_noise - half, 1 if v > 0 else 0), v + self.max_noise + half
        if v == 0:
            return 0.0, 0.0
        return max(v - half, self.threshold + 1), v + (self.rounding_base - 1) // 2


@dataclass(frozen=True)
class Asked:
    """One table asked for: the question, its cuts, and its period (`period` as `answer`
    takes it; `months` its first and last months, None for the whole record)."""

    slug: str
    by: tuple[str, ...]
    label: str
    months: Span | None
    period: object


def atom_of(shape: Shape, dims: Mapping[str, object]) -> tuple[object, ...]:
    return (dims["month"], *(dims[d] for d in shape.dims))


@dataclass
class Model:
    """One question's release: each distinct cell's intervals (one per measure), the atoms,
    and which atoms each cell sums."""

    shape: Shape
    months: list[str]
    cells: dict[CellKey, list[Interval]] = field(default_factory=dict)
    figures: dict[CellKey, tuple[object, ...]] = field(default_factory=dict)
    inconsistent: set[CellKey] = field(default_factory=set)
    listing: dict[tuple[str, ...], set[frozenset[tuple[object, ...]]]] = field(default_factory=dict)
    keys: dict[object, CellKey] = field(default_factory=dict)
    atoms: list[tuple[object, ...]] = field(default_factory=list)
    index: dict[tuple[str, ...], dict[tuple[object, ...], list[int]]] = field(default_factory=dict)
    summed: dict[CellKey, list[int]] = field(default_factory=dict)

    @classmethod
    def of(
        cls, shape: Shape, tables: Sequence[tuple[Asked, ControlledTable]], published: Published
    ) -> "Model":
        rows = [r for _, t in tables for r in (*t.rows, *t.totals)]
        model = cls(shape, sorted({str(r.dims["month"]) for r in rows if "month" in r.dims}))
        for asked, table in tables:
            model.read(asked, table, published)
        finest = max(tables, key=lambda at: (len(at[0].by), at[0].months is None))
        model.atoms = sorted(
            {atom_of(shape, r.dims) for r in finest[1].rows}, key=lambda a: tuple(map(str, a))
        )
        return model

    def key(self, dims: Mapping[str, object], months: Span | None) -> CellKey:
        fixed = [(d, v) for d, v in dims.items() if d != "month"]
        for d, (src, fn) in self.shape.derived.items():
            if d in dims and src in dims and fn.get(dims[src]) == dims[d]:
                fixed.remove((d, dims[d]))  # implied by its source: the same cell without it
        if "month" in dims:
            first = last = str(dims["month"])
        else:  # the period's months within the record (FY2023-24 of a record from 2024-01
            # is its first quarter: the same cell)
            first, last = months or (self.months[0], self.months[-1])
            first, last = max(first, self.months[0]), min(last, self.months[-1])
        return first, last, tuple(sorted(fixed, key=lambda kv: kv[0]))

    def read(self, asked: Asked, table: ControlledTable, published: Published) -> None:
        measures = self.shape.measures
        keys: dict[object, CellKey] = self.keys
        listed: dict[str, set[Fixed]] = defaultdict(set)
        detail = len(table.rows)
        for i, row in enumerate((*table.rows, *table.totals)):
            items = tuple(row.dims.items())
            where = items if "month" in row.dims else (items, asked.months)
            key = keys.get(where)
            if key is None:
                key = keys[where] = self.key(row.dims, asked.months)
            if i < detail:
                listed[key[0]].add(key[2])
            figures = tuple([row.cells[m].value for m in measures])
            seen = self.figures.setdefault(key, figures)
            if seen == figures and key in self.cells:
                continue  # the same figures again: nothing new
            if seen != figures:
                self.inconsistent.add(key)
            bounds = self.cells.setdefault(key, [(0.0, math.inf)] * len(measures))
            for j, m in enumerate(measures):
                lo, hi = published.interval(row.cells[m])
                bounds[j] = (max(lo, bounds[j][0]), min(hi, bounds[j][1]))
        # A row's presence must say nothing: the same rows in every month and period.
        self.listing.setdefault(asked.by, set()).update(frozenset(s) for s in listed.values())
        if "month" in table.dims:  # every month of the period listed, or an absence says 0
            span = asked.months or (self.months[0], self.months[-1])
            if {m for m in self.months if span[0] <= m <= span[1]} - set(listed):
                self.listing[asked.by].add(frozenset())

    def attribute(self, atom: tuple[object, ...], dim: str) -> object:
        if dim in self.shape.derived:
            src, fn = self.shape.derived[dim]
            return fn.get(atom[1 + self.shape.dims.index(src)])
        return atom[1 + self.shape.dims.index(dim)]

    def members(self, key: CellKey) -> list[int]:
        """The atoms a cell sums (indices into `atoms`)."""
        if key in self.summed:
            return self.summed[key]
        first, last, fixed = key
        names = tuple(d for d, _ in fixed)
        if names not in self.index:
            groups: dict[tuple[object, ...], list[int]] = defaultdict(list)
            for i, atom in enumerate(self.atoms):
                groups[(atom[0], *(self.attribute(atom, d) for d in names))].append(i)
            self.index[names] = groups
        wanted = tuple(v for _, v in fixed)
        groups = self.index[names]
        months = [first] if first == last else [m for m in self.months if first <= m <= last]
        self.summed[key] = [i for m in months for i in groups.get((m, *wanted), ())]
        return self.summed[key]
