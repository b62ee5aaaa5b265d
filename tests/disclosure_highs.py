"""The LPs of the disclosure attack (`tests.disclosure_lp`), solved by HiGHS through scipy.

lp = Programme(m, lo, hi, lb, ub, Stats())  # lo <= m @ x <= hi, lb <= x <= ub
x = lp.solve(objective)  # a point minimising objective @ x, None if unbounded
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linprog  # type: ignore[import-untyped]
from scipy.sparse import csr_matrix, vstack  # type: ignore[import-untyped]

TOL = 1e-6
Floats = NDArray[np.float64]


class InfeasibleError(Exception):
    """The bounds admit no values at all: some shown figure broke its published bound."""


@dataclass
class Stats:
    """LPs solved, and verdicts reached without any LP of their own."""

    lps: int = 0
    without_lp: int = 0


def sums(matrix: csr_matrix, values: Floats) -> tuple[Floats, Floats]:
    """Per row: the sum of the finite values, and how many are infinite."""
    infinite = ~np.isfinite(values)
    return matrix @ np.where(infinite, 0.0, values), matrix @ infinite.astype(np.float64)


class Programme:
    """Rows lo <= m @ x <= hi and atoms lb <= x <= ub as an LP (the rows the atoms' bounds make
    redundant left out), solved by HiGHS: through scipy's bundled bindings where present, the
    model passed once and each LP warm-started by primal simplex from the last one's basis
    (about 15 times faster here than linprog, which starts afresh each time); else by
    linprog."""

    def __init__(
        self, m: csr_matrix, lo: Floats, hi: Floats, lb: Floats, ub: Floats, stats: Stats
    ) -> None:
        self.stats, self.lb, self.ub = stats, lb, ub
        ub_sum, ub_inf = sums(m, ub)
        upper = np.isfinite(hi) & ((ub_inf > 0) | (ub_sum > hi + TOL))
        lower = (lo > 0) & (m @ lb < lo - TOL)
        kept = upper | lower
        self.matrix: csr_matrix = m[kept]
        self.row_lo = np.where(lower, lo, -math.inf)[kept]
        self.row_hi = np.where(upper, hi, math.inf)[kept]
        # An atom is bounded above by its own bound or by a row with a finite maximum.
        self.capped = np.isfinite(ub) | (m.T @ np.isfinite(hi).astype(np.float64) > 0)
        self.highs = _bundled_highs(self)

    def solve(self, objective: Floats) -> Floats | None:
        """A point minimising `objective`, or None when it is unbounded below."""
        self.stats.lps += 1
        if self.highs is not None:
            return self.highs(objective)
        upper, lower = np.isfinite(self.row_hi), np.isfinite(self.row_lo)
        a_ub = vstack([self.matrix[upper], -self.matrix[lower]], format="csr")
        result = linprog(
            objective,
            A_ub=a_ub if a_ub.shape[0] else None,
            b_ub=np.concatenate([self.row_hi[upper], -self.row_lo[lower]])
            if a_ub.shape[0]
            else None,
            bounds=np.column_stack([self.lb, self.ub]),
            method="highs",
        )
        if result.status == 3:
            return None
        if result.status != 0:
            raise InfeasibleError(f"the LP failed: {result.message}")
        return np.asarray(result.x, dtype=np.float64)


def _bundled_highs(lp: Programme) -> Callable[[Floats], Floats | None] | None:
    """A warm-started solve over scipy's own HiGHS bindings, or None where scipy has none."""
    try:
        from scipy.optimize._highspy import _core  # type: ignore[import-untyped]
    except ImportError:
        return None
    inf = _core.kHighsInf
    a = lp.matrix.tocsc()
    n = a.shape[1]
    model = _core.HighsLp()
    model.num_col_, model.num_row_ = n, a.shape[0]
    model.col_cost_ = np.zeros(n)
    model.col_lower_ = lp.lb
    model.col_upper_ = np.where(np.isfinite(lp.ub), lp.ub, inf)
    model.row_lower_ = np.where(np.isfinite(lp.row_lo), lp.row_lo, -inf)
    model.row_upper_ = np.where(np.isfinite(lp.row_hi), lp.row_hi, inf)
    model.a_matrix_.format_ = _core.MatrixFormat.kColwise
    model.a_matrix_.start_, model.a_matrix_.index_ = a.indptr, a.indices
    model.a_matrix_.value_ = a.data
    model.a_matrix_.num_col_, model.a_matrix_.num_row_ = n, a.shape[0]
    highs = _core._Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("simplex_strategy", 4)  # primal: the last basis stays feasible
    highs.setOptionValue("presolve", "off")  # each LP from the last basis (faster here)
    highs.passModel(model)
    columns = np.arange(n, dtype=np.int32)

    def solve(objective: Floats) -> Floats | None:
        highs.changeColsCost(n, columns, objective)
        highs.run()
        status = highs.getModelStatus()
        if status == _core.HighsModelStatus.kOptimal:
            return np.asarray(highs.getSolution().col_value, dtype=np.float64)
        if status == _core.HighsModelStatus.kUnbounded:
            return None
        raise InfeasibleError(f"the LP failed: {highs.modelStatusToString(status)}")

    return solve
