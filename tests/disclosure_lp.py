"""Bounding cells by linear programming (HiGHS: `tests.disclosure_highs`) over one block of
additive relations.

    block = Block(3)  # three atoms, each a whole number of at least 0
    block.add((0, 1), 5, 5)  # atom 0 + atom 1 is exactly 5
    block.add((1, 2), 0, 2)
    bound(block, [Target((0,), 0, math.inf)])  # [Verdict(lo=3, hi=5, pinned=False, narrowed=True)]

Every value is a whole number, so bounds are rounded inwards (a minimum up, a maximum down)
and stay sound. First, propagation, until nothing changes: each row bounds each of its atoms by
its own bounds less the others'; the spans of one chain (a pattern's sums over runs of months:
a month, a quarter, a year, or any from..to) bound each other exactly as differences of running
totals, by shortest paths; and a target is bounded by every row that holds it. Then LPs, only
where a verdict is still open: a point an LP returns is feasible, so a target seen at its bound
cannot be tightened there, and two values seen with a whole number between them mean it is not
pinned; LPs that push many open targets at once come first, one target at a time last.
`Pool` bounds blocks in worker processes, each block's verdicts or why it admits no values.
"""

import math
import multiprocessing
import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csc_matrix, csr_matrix  # type: ignore[import-untyped]

from tests.disclosure_highs import TOL, Floats, InfeasibleError, Programme, Stats, sums

Rows = dict[tuple[int, ...], tuple[float, float]]


@dataclass(frozen=True, slots=True)
class Target:
    """A cell to bound: its atoms and its own published interval."""

    members: tuple[int, ...]
    own_lo: float
    own_hi: float


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the attack proved about a target: sound bounds `lo`..`hi` (exact where a verdict
    needed them), whether one value is left, whether they are inside the target's own interval."""

    lo: float
    hi: float
    pinned: bool
    narrowed: bool


@dataclass
class Block:
    """Atoms 0..size-1 (each >= 0) and rows lo <= sum(members) <= hi; a repeated row intersects.
    A row may be a span of a chain: the sum of months `first`..`last` of one pattern (a cell's
    dims over consecutive months), so that spans of a chain bound each other as differences."""

    size: int
    rows: Rows = field(default_factory=dict)
    spans: dict[tuple[int, ...], set[tuple[object, int, int]]] = field(default_factory=dict)

    def add(
        self,
        members: Sequence[int],
        lo: float,
        hi: float,
        span: tuple[object, int, int] | None = None,
    ) -> None:
        key = tuple(members) if _ascending(members) else tuple(sorted(members))
        old_lo, old_hi = self.rows.get(key, (0.0, math.inf))
        self.rows[key] = (max(lo, old_lo), min(hi, old_hi))
        if span is not None:
            self.spans.setdefault(key, set()).add(span)


def _ascending(members: Sequence[int]) -> bool:
    return all(a < b for a, b in pairwise(members))


def _incidence(keys: Sequence[tuple[int, ...]], size: int) -> csr_matrix:
    rows = np.repeat(np.arange(len(keys)), [len(k) for k in keys])
    cols = np.fromiter((v for k in keys for v in k), dtype=np.int64, count=len(rows))
    return csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(keys), size))


class _System:
    """The block's rows and its atoms' bounds, tightened by propagation."""

    def __init__(self, block: Block) -> None:
        if () in block.rows and block.rows[()][0] > TOL:
            raise InfeasibleError("a cell with no atoms is shown above 0")
        keys = [k for k in block.rows if k]
        self.matrix = _incidence(keys, block.size)
        self.lo = np.array([block.rows[k][0] for k in keys])
        self.hi = np.array([block.rows[k][1] for k in keys])
        self.lb = np.zeros(block.size)
        self.ub = np.full(block.size, math.inf)
        where = {k: i for i, k in enumerate(keys)}
        chains: dict[object, list[tuple[int, int, int]]] = defaultdict(list)
        for key, spans in block.spans.items():
            for pattern, first, last in spans:
                if key in where:
                    chains[pattern].append((where[key], first, last))
        self.chains = [np.array(links, dtype=np.int64) for links in chains.values()]
        for _ in range(50):
            self._propagate()
            if not self._chain():
                break

    def _chain(self) -> bool:
        """Tighten every span of every chain by the others (difference constraints on the
        chain's running totals, solved exactly by shortest paths); True if any changed."""
        lb_r = self.matrix @ self.lb
        ub_r, inf_r = sums(self.matrix, self.ub)
        lo = np.maximum(self.lo, lb_r)
        hi = np.minimum(self.hi, np.where(inf_r > 0, math.inf, ub_r))
        changed = False
        for links in self.chains:
            rows, first, last = links[:, 0], links[:, 1], links[:, 2] + 1
            size = int(last.max()) + 1
            # d[i, j]: the most that total(j) - total(i) can be (totals of the months before).
            d = np.full((size, size), math.inf)
            np.fill_diagonal(d, 0.0)
            d[np.arange(1, size), np.arange(size - 1)] = 0.0  # the totals never fall
            np.minimum.at(d, (first, last), hi[rows])
            np.minimum.at(d, (last, first), -lo[rows])
            for k in range(size):
                d = np.minimum(d, d[:, k : k + 1] + d[k : k + 1, :])
            if (np.diag(d) < -TOL).any():
                raise InfeasibleError("the spans of a chain admit no totals")
            new_hi, new_lo = d[first, last], -d[last, first]
            if (new_hi < self.hi[rows] - TOL).any() or (new_lo > self.lo[rows] + TOL).any():
                changed = True
                np.minimum.at(self.hi, rows, new_hi)
                np.maximum.at(self.lo, rows, new_lo)
        return changed

    def _propagate(self, rounds: int = 50) -> None:
        coo = self.matrix.tocoo()
        r, c = coo.row, coo.col
        for _ in range(rounds):
            lb_sum = self.matrix @ self.lb
            ub_sum, ub_inf = sums(self.matrix, self.ub)
            ub_c = self.ub[c]
            ub = self.ub.copy()
            np.minimum.at(ub, c, self.hi[r] - (lb_sum[r] - self.lb[c]))
            others_inf = ub_inf[r] - ~np.isfinite(ub_c)
            others_ub = ub_sum[r] - np.where(np.isfinite(ub_c), ub_c, 0.0)
            lb = self.lb.copy()
            np.maximum.at(lb, c, np.where(others_inf > 0, -math.inf, self.lo[r] - others_ub))
            ub = np.where(np.isfinite(ub), np.floor(ub + TOL), ub)
            lb = np.ceil(lb - TOL)
            if (lb > ub).any():
                raise InfeasibleError(f"atom {int(np.argmax(lb > ub))} has no value left")
            if np.array_equal(lb, self.lb) and np.array_equal(ub, self.ub):
                return
            self.lb, self.ub = lb, ub

    def target_bounds(self, t: csr_matrix) -> tuple[Floats, Floats]:
        """Per target: its atoms' bounds summed, tightened by each row holding all its atoms."""
        lb_t = t @ self.lb
        ub_t, inf_t = sums(t, self.ub)
        lb_r = self.matrix @ self.lb
        ub_r, inf_r = sums(self.matrix, self.ub)
        lo = lb_t.copy()
        hi = np.where(inf_t > 0, math.inf, ub_t)
        holding: csc_matrix = (self.matrix @ t.T).tocsc()
        sizes = np.asarray(t.sum(axis=1)).ravel()
        for j in range(t.shape[0]):
            span = slice(holding.indptr[j], holding.indptr[j + 1])
            rows = holding.indices[span][holding.data[span] >= sizes[j] - TOL]
            if rows.size:
                hi[j] = min(hi[j], (self.hi[rows] - (lb_r[rows] - lb_t[j])).min())
                others_inf = inf_r[rows] - inf_t[j]
                others_ub = np.where(others_inf > 0, math.inf, ub_r[rows] - ub_t[j])
                lo[j] = max(lo[j], (self.lo[rows] - others_ub).max())
        return np.ceil(lo - TOL), np.where(np.isfinite(hi), np.floor(hi + TOL), hi)


def bound(block: Block, targets: Sequence[Target], stats: Stats | None = None) -> list[Verdict]:
    """Each target's verdict: pinned (one value left) and narrowed (inside its own interval)."""
    stats = stats if stats is not None else Stats()
    if not targets:
        return []
    system = _System(block)
    t = _incidence([tg.members for tg in targets], block.size)
    lo, hi = system.target_bounds(t)
    own_lo = np.array([tg.own_lo for tg in targets], dtype=np.float64)
    own_hi = np.array([tg.own_hi for tg in targets], dtype=np.float64)
    lp = Programme(system.matrix, system.lo, system.hi, system.lb, system.ub, stats)
    finite = np.asarray(t @ (~lp.capped).astype(np.float64) == 0).ravel()
    hi = np.where(finite, hi, math.inf)
    seen_lo = np.full(len(targets), math.inf)
    seen_hi = np.full(len(targets), -math.inf)
    exact_lo = np.zeros(len(targets), dtype=bool)
    exact_hi = ~finite

    def see(x: Floats | None) -> None:
        if x is not None:
            values = t @ x
            np.minimum(seen_lo, values, out=seen_lo)
            np.maximum(seen_hi, values, out=seen_hi)
        exact_lo[seen_lo <= lo + TOL] = True
        exact_hi[seen_hi >= hi - TOL] = True

    def open_sides() -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """Targets whose verdict is still open, and whose low (high) side an LP may tighten."""
        exact = exact_lo & exact_hi
        apart = np.floor(seen_hi + TOL) > np.ceil(seen_lo - TOL)
        pinned_known = (lo >= hi) | apart | exact
        narrowed_known = (lo > own_lo) | (hi < own_hi) | exact
        settled = pinned_known & narrowed_known
        return ~settled & ~exact_lo, ~settled & ~exact_hi

    rng = np.random.default_rng(15)
    for _ in range(20):  # LPs that push every open target down (up) at once, while they pay
        low, high = open_sides()
        before = int(low.sum() + high.sum())
        if low.any():
            see(lp.solve(t.T @ (rng.uniform(1, 2, len(targets)) * low)))
        if high.any():
            see(lp.solve(-(t.T @ (rng.uniform(1, 2, len(targets)) * high))))
        low, high = open_sides()
        if before - int(low.sum() + high.sum()) < max(25, before // 10):
            break
    low, high = open_sides()
    stats.without_lp += int((~low & ~high).sum())
    for i in np.flatnonzero(low | high):
        row = t.getrow(i).toarray().ravel()
        while True:
            low, high = (side[i] for side in open_sides())
            if not (low or high):
                break
            if high:
                x = lp.solve(-row)
                if x is not None:
                    hi[i] = min(hi[i], math.floor(float(row @ x) + TOL))
                exact_hi[i] = True
            else:
                x = lp.solve(row)
                if x is not None:
                    lo[i] = max(lo[i], math.ceil(float(row @ x) - TOL))
                exact_lo[i] = True
            see(x)
    pinned = lo >= hi
    narrowed = (lo > own_lo) | (hi < own_hi)
    return [
        Verdict(float(lo[i]), float(hi[i]), bool(pinned[i]), bool(narrowed[i]))
        for i in range(len(targets))
    ]


Solved = tuple[list[Verdict] | str, Stats]


def _solve(block: Block, targets: Sequence[Target]) -> Solved:
    """A block's verdicts, or why its figures admit no values at all."""
    stats = Stats()
    try:
        return bound(block, targets, stats), stats
    except InfeasibleError as e:
        return str(e), stats


class Pool:
    """Blocks bounded in worker processes (spawned: the caller may hold threads, DuckDB's among
    them), or here and at once with one worker."""

    def __init__(self, workers: int | None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.pool = None
        if self.workers > 1:
            context = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(self.workers, mp_context=context)

    def submit(self, block: Block, targets: Sequence[Target]) -> Callable[[], Solved]:
        """The block's verdicts (or why there are none) and its LPs, when called."""
        if self.pool is None:
            solved = _solve(block, targets)
            return lambda: solved
        return self.pool.submit(_solve, block, targets).result

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *_: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
