"""A seeded random source with fast draws for the generator's hot loops."""

import bisect
import itertools
import math
import random
from collections.abc import Iterable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class Dice(random.Random):
    """random.Random whose integer and choice draws use one float each (several times faster)."""

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        """An integer in [start, stop) (or [0, start)); a bias below 2**-40 is fine here."""
        if stop is None:
            start, stop = 0, start
        if step != 1 or stop <= start:
            return super().randrange(start, stop, step)
        return start + int(self.random() * (stop - start))

    def randint(self, a: int, b: int) -> int:
        """An integer in [a, b]."""
        return self.randrange(a, b + 1)

    def choice(self, seq: Sequence[T]) -> T:  # type: ignore[override]
        """One item of a non-empty sequence."""
        return seq[int(self.random() * len(seq))]


class Weighted(Generic[T]):
    """Items with cumulative weights, built once, drawn from many times."""

    __slots__ = ("cumulative", "items")

    def __init__(self, pairs: Iterable[tuple[T, float]]) -> None:
        pairs = [(item, weight) for item, weight in pairs if weight > 0]
        self.items = tuple(item for item, _ in pairs)
        self.cumulative = tuple(itertools.accumulate(w for _, w in pairs))

    def draw(self, rng: random.Random) -> T:
        """One item, with probability proportional to its weight."""
        return self.items[bisect.bisect(self.cumulative, rng.random() * self.cumulative[-1])]


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth for small means, a normal approximation for large ones)."""
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k
