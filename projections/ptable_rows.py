"""One row of the cell key method's ptable: the noise distribution of a true count `i`, and the
256 cell keys shared out over it (`projections.ptable` assembles the rows into the table).

The method is that of Destatis's R package `ptable` (`create_cnt_ptable(D, V, js)`; Giessing
2016, "Computational Issues in the Design of Transition Probabilities...", PSD, LNCS 9867):
for each true count i the output j is drawn from the distribution of maximum entropy that

- lives on j in max(0, i - D)..i + D without 1..js (a small count never shows, 0 may),
- is unbiased (mean i) and has variance at most V (Destatis's inequality, not an equality),
- on the left of the truth rises towards it: p(j) <= p(j + 1) for j < i (Destatis's default
  `mono = TRUE`; it binds only where 1..js cut the left side short).

The solution is an exponential family p_j ∝ exp(a·(j - i) + b·(j - i)²), b = 0 where the
variance bound is slack and b < 0 where it binds; the monotone condition pools a run of the
left side into equal probabilities, whose exponent is the run's average (the isotonic
regression of the exponents, pool-adjacent-violators). a and b are found by safeguarded Newton.

Where not every condition can hold, what gives way:
- A variance of at most V is impossible for a row whose least unbiased variance is above V:
  for i <= js that least is i·(js + 1 - i), from 0 and js + 1 alone (with js = 7, V = 9:
  rows 2..6). Destatis's solver reports such a row as violating V; here the bound is raised to
  that least variance, which only the two-point distribution on 0 and js + 1 reaches (mean i).
- Nothing relaxes the other way: a row whose maximum-entropy variance is below V keeps it (the
  bound is slack), as rows cut short by 1..js do (with js = 7, D = 8: rows 1 and 9..11), and
  every row does when V is large next to D(D + 1)/3, the variance of noise uniform on ±D.
- Rounding to 256 keys (`keys`) moves the mean by at most a few 1/256 (row 1 of the default:
  -3/256) and rows that can reach 0 lose or gain up to about i²/256 of variance.
- max_noise must exceed threshold (the place's rule): else the count threshold + 1 has no
  output below it, and being unbiased it could never move.
"""

import itertools
import math
from collections.abc import Callable

KEYS = 256  # the cell key's range: a cell's key is its units' keys summed mod 256
# Key shares are counted in units of 1e-9 key: exact integers, and a 1-ulp difference in exp()
# between platforms changes no cut.
_SCALE = 10**9


def outputs(i: int, threshold: int, max_noise: int) -> list[int]:
    """The values a true count `i` may show: 0 stays 0; otherwise i ± max_noise, never
    negative, never 1..threshold."""
    if i == 0:
        return [0]
    low = max(0, i - max_noise)
    return [j for j in range(low, i + max_noise + 1) if not 1 <= j <= threshold]


def probabilities(i: int, threshold: int, max_noise: int, variance: float) -> list[float]:
    """The maximum-entropy distribution over `outputs(i, ...)` (module docstring)."""
    v = [j - i for j in outputs(i, threshold, max_noise)]
    if i == 0:
        return [1.0]
    p = _fit_mean(0.0, v)[0]
    if _moment(p, v, 2) <= variance:
        return p
    below = max(x for x in v if x <= 0)
    above = min(x for x in v if x >= 0)
    if below < 0 and variance <= -below * above + 1e-9:
        # Only the two outputs either side of i reach the least variance (module docstring).
        gap = above - below
        return [above / gap if x == below else -below / gap if x == above else 0.0 for x in v]

    def excess(b: float) -> tuple[float, float]:
        p, slope = _fit_mean(b, v)
        return _moment(p, v, 2) - variance, slope

    low = -1.0
    while excess(low)[0] > 0:  # as b falls the variance falls to the least, below V
        low *= 2
    return _fit_mean(_root(excess, low, 0.0), v)[0]


def keys(i: int, threshold: int, max_noise: int, variance: float) -> list[int]:
    """How many of the 256 cell keys each of `outputs(i, ...)` gets (keys are handed out in
    order of output, so a row is its cumulative distribution cut at multiples of 1/256).

    Each cut is its exact cumulative share of the keys rounded down or up: of those roundings,
    the one whose mean is nearest i, then whose variance is nearest the distribution's, then
    whose cuts are nearest the shares. A row left with one output (a variance too small for
    256 keys) gets one key below and enough above to keep the mean, so its noise still varies.
    """
    v = [j - i for j in outputs(i, threshold, max_noise)]
    p = probabilities(i, threshold, max_noise, variance)
    shares, cumulative = [0], 0.0
    for q in p:
        cumulative += q
        shares.append(round(cumulative * KEYS * _SCALE))
    shares[-1] = KEYS * _SCALE
    squares = round(sum(q * x * x for q, x in zip(p, v, strict=True)) * KEYS * _SCALE)
    cuts = _cuts(shares, v, squares)
    counts = [high - low for low, high in itertools.pairwise(cuts)]
    if 0 in v and counts[v.index(0)] == KEYS and i > 0:
        below = max(k for k in range(len(v)) if v[k] < 0)
        counts[v.index(0)] -= 1 - v[below]
        counts[below] += 1
        counts[v.index(1)] -= v[below]
    return counts


def _cuts(shares: list[int], v: list[int], squares: int) -> list[int]:
    """The cuts between outputs (the first 0, the last 256) chosen as `keys` says: from the
    nearest roundings of the shares, flip one cut (or else two) to its other rounding while
    that improves (|sum(count · v)|, |sum(count · v²) - squares|, sum((cut - share)²)).
    Shares and squares come in units of 1/_SCALE key, so every score is exact."""
    down = [s // _SCALE for s in shares]
    up = [-(-s // _SCALE) for s in shares]
    cuts = [u if 2 * s >= (d + u) * _SCALE else d for s, d, u in zip(shares, down, up, strict=True)]
    flippable = [k for k in range(1, len(v)) if down[k] != up[k]]
    # Raising cut k by one moves a key from output k to output k - 1.
    step = [0] + [v[k] - v[k - 1] for k in range(1, len(v))]
    step_squared = [0] + [v[k] ** 2 - v[k - 1] ** 2 for k in range(1, len(v))]

    def score(flips: tuple[int, ...]) -> tuple[int, int, int] | None:
        new = {k: down[k] + up[k] - cuts[k] for k in flips}
        if any(
            not new.get(k - 1, cuts[k - 1]) <= n <= new.get(k + 1, cuts[k + 1])
            for k, n in new.items()
        ):
            return None  # a negative count
        mean, spread, error = now
        for k, n in new.items():
            mean -= (n - cuts[k]) * step[k]
            spread -= (n - cuts[k]) * step_squared[k] * _SCALE
            error += (n * _SCALE - shares[k]) ** 2 - (cuts[k] * _SCALE - shares[k]) ** 2
        return abs(mean), abs(spread - squares), error

    while True:
        counts = [high - low for low, high in itertools.pairwise(cuts)]
        now = (
            sum(c * x for c, x in zip(counts, v, strict=True)),
            sum(c * x * x for c, x in zip(counts, v, strict=True)) * _SCALE,
            sum((c * _SCALE - s) ** 2 for c, s in zip(cuts, shares, strict=True)),
        )
        current = (abs(now[0]), abs(now[1] - squares), now[2])
        for group in ([(k,) for k in flippable], itertools.combinations(flippable, 2)):
            scored = [(s, flips) for flips in group if (s := score(flips)) is not None]
            better = min(scored, default=None)
            if better is not None and better[0] < current:
                break
        else:
            return cuts
        for k in better[1]:
            cuts[k] = down[k] + up[k] - cuts[k]


def _family(a: float, b: float, v: list[int]) -> tuple[list[float], list[float], list[float]]:
    """p ∝ exp(a·v + b·v²), pooled to rise up to v = 0 from the left (module docstring); with
    v and v² averaged over each pooled run, what (a, b) act on, so that their covariances under
    p are the derivatives of the moments."""
    exponents = [a * x + b * x * x for x in v]
    u, w = [float(x) for x in v], [float(x * x) for x in v]
    start = 0
    for length in _runs(exponents[: v.index(0) + 1] if 0 in v else []):
        run = slice(start, start + length)
        for series in (exponents, u, w):
            series[run] = [sum(series[run]) / length] * length
        start += length
    top = max(exponents)
    weights = [math.exp(e - top) for e in exponents]
    total = sum(weights)
    return [x / total for x in weights], u, w


def _runs(values: list[float]) -> list[int]:
    """The lengths of the runs that pool `values` into the nearest non-decreasing sequence
    (pool-adjacent-violators: each run takes its average)."""
    runs: list[tuple[float, int]] = []  # (sum, length)
    for x in values:
        runs.append((x, 1))
        while len(runs) > 1 and runs[-2][0] * runs[-1][1] > runs[-1][0] * runs[-2][1]:
            (s2, n2), (s1, n1) = runs.pop(), runs.pop()
            runs.append((s1 + s2, n1 + n2))
    return [n for _, n in runs]


def _moment(p: list[float], v: list[int], power: int) -> float:
    return sum(q * float(x) ** power for q, x in zip(p, v, strict=True))


def _covariance(p: list[float], x: list[float], y: list[float]) -> float:
    mx = sum(q * s for q, s in zip(p, x, strict=True))
    my = sum(q * s for q, s in zip(p, y, strict=True))
    return sum(q * (s - mx) * (t - my) for q, s, t in zip(p, x, y, strict=True))


def _fit_mean(b: float, v: list[int]) -> tuple[list[float], float]:
    """The distribution whose mean noise is 0 for this b, and the slope of its variance in b
    along that constraint (a Schur complement, >= 0: the variance rises with b)."""

    def mean(a: float) -> tuple[float, float]:
        p, u, _ = _family(a, b, v)
        return _moment(p, v, 1), _covariance(p, u, u)

    low, high = -1.0, 1.0
    while mean(low)[0] > 0:
        low *= 2
    while mean(high)[0] < 0:
        high *= 2
    p, u, w = _family(_root(mean, low, high), b, v)
    var_u = _covariance(p, u, u)
    slope = _covariance(p, w, w) - _covariance(p, u, w) ** 2 / var_u if var_u > 0 else 0.0
    return p, slope


def _root(f: Callable[[float], tuple[float, float]], low: float, high: float) -> float:
    """The root of an increasing f (returning value and slope) in [low, high]: Newton's step
    where it stays inside the bracket, else bisection."""
    x = (low + high) / 2
    for _ in range(200):
        value, slope = f(x)
        if abs(value) < 1e-12:
            return x
        if value < 0:
            low = x
        else:
            high = x
        step = x - value / slope if slope > 0 else math.nan
        x = step if low < step < high else (low + high) / 2
        if high - low < 1e-15 * max(1.0, abs(x)):
            return x
    return x
