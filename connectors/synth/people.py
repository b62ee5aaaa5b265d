"""People and households: fake names, birth dates, addresses and NHS numbers."""

import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from faker import Faker

from connectors.pseudonym import nhs_check_digit
from connectors.synth import catalogue as cat
from connectors.synth.dice import Weighted

DAY = 86_400
MAX_PEOPLE = 10_000_000
# Names are drawn from pools built once per locale: a Faker call is far too slow per person.
LOCALES = (
    ("en_GB", 60), ("pl_PL", 6), ("en_PK", 6), ("ro_RO", 4), ("uk_UA", 4), ("ar_AA", 4),
    ("yo_NG", 4), ("zh_CN", 3), ("hi_IN", 3), ("bn_BD", 3), ("tr_TR", 3),
)  # fmt: skip
POOL_SIZE = 2_000
_LOCALE_POOLS = Weighted((i, w) for i, (_, w) in enumerate(LOCALES))
_SIZES = Weighted(zip((1, 2, 3, 4, 5), (30, 31, 17, 14, 8), strict=True))
_LOCALITIES = Weighted(enumerate(cat.LOCALITY_WEIGHT))
_STREETS = (
    "Mill Lane", "Station Road", "Church Street", "Victoria Road", "Park Avenue", "High Street",
    "Queen's Drive", "Canal Side", "Foundry Walk", "Albert Terrace", "Orchard Close",
    "Chapel Row", "Weavers Court", "Bridge Street", "Hawthorn Way", "Railway Cottages",
    "St Mary's Road", "Coronation Street", "Meadow View", "Kiln Lane", "Tannery Yard",
    "Brunswick Square", "Elm Grove", "Moor Lane",
)  # fmt: skip
_POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
# A multiplier coprime to 10**8 spreads person indexes over the number range (a bijection).
_SPREAD, _OFFSET = 48_271, 31_415_926


@functools.cache
def name_pools() -> tuple[tuple[str, ...], ...]:
    """A few thousand fake full names per locale, the same in every run."""
    pools = []
    for i, (locale, _) in enumerate(LOCALES):
        fake = Faker(locale)
        fake.seed_instance(7_919 + i)
        pools.append(tuple(str(fake.name()) for _ in range(POOL_SIZE)))
    return tuple(pools)


def nhs_number(index: int) -> str:
    """A fake NHS number for a person index: starts with 9, check digit valid, unique."""
    if not 0 <= index < MAX_PEOPLE:
        raise ValueError(f"person index {index} is outside 0..{MAX_PEOPLE - 1}")
    # Candidates index + k * MAX_PEOPLE never collide with another person's candidates.
    for k in range(10):
        body = ((index + k * MAX_PEOPLE) * _SPREAD + _OFFSET) % 10**8
        first_nine = f"9{body:08d}"
        check = nhs_check_digit(first_nine)
        if check is not None:
            return f"{first_nine}{check}"
    raise ValueError(f"no valid NHS number for person index {index}")  # pragma: no cover


def mistype(number: str, rng: random.Random) -> str:
    """The number with one digit (after the leading 9) changed: the check digit then fails."""
    at = rng.randrange(1, 10)
    digit = rng.choice([d for d in "0123456789" if d != number[at]])
    return number[:at] + digit + number[at + 1 :]


def written(number: str, style: str, rng: random.Random) -> str:
    """An NHS number as an agency types it: '943 476 5919', '943-476-5919' or '9434765919'."""
    if style == "mixed":
        style = rng.choice(("spaced", "plain", "plain", "dashed"))
    if style == "spaced":
        return f"{number[:3]} {number[3:6]} {number[6:]}"
    if style == "dashed":
        return f"{number[:3]}-{number[3:6]}-{number[6:]}"
    return number


@dataclass(slots=True)
class Person:
    """One member of the synthetic population (what the agencies hold about them)."""

    index: int
    household: int
    nhs: str
    name: str
    birth: date
    age: int
    locality: int
    address: str
    complexity: float
    move_at: int | None = None
    new_locality: int = 0
    new_address: str = ""
    death_at: int | None = None

    def locality_at(self, t: int) -> int:
        """The locality index where the person lives at time t."""
        return (
            self.new_locality if self.move_at is not None and t >= self.move_at else self.locality
        )

    def address_at(self, t: int) -> str:
        """The address the person gives at time t."""
        return self.new_address if self.move_at is not None and t >= self.move_at else self.address


def _address(rng: random.Random, locality: int) -> str:
    street = rng.choice(_STREETS)
    letters = rng.choice(_POSTCODE_LETTERS) + rng.choice(_POSTCODE_LETTERS)
    flat = f"Flat {rng.randint(1, 24)}, " if rng.random() < 0.2 else ""
    return (
        f"{flat}{rng.randint(1, 240)} {street}, {cat.LOCALITIES[locality][1]}, "
        f"Northbridge NB{locality + 1} {rng.randint(1, 9)}{letters}"
    )


def _ages(rng: random.Random, size: int) -> list[int]:
    head = int(rng.triangular(18, 95, 38))
    ages = [head]
    if size >= 2:
        ages.append(max(18, head + rng.randint(-6, 6)) if rng.random() < 0.6 else -1)
    ages += [-1] * (size - len(ages))
    for i, age in enumerate(ages):
        if age >= 0:
            continue
        if rng.random() < 0.08 and head < 60:
            ages[i] = rng.randint(max(head + 18, 55), 95)  # a grandparent lives with them
        elif head < 62:
            ages[i] = rng.randint(0, min(17, head - 16))
        else:
            ages[i] = rng.randint(18, max(19, head - 18))
    return ages


def households(
    rng: random.Random, people: int, horizon_days: int, start: date, mu: float, sigma: float
) -> Iterator[list[Person]]:
    """Households of 1-5 people, generated lazily until `people` people exist."""
    pools = name_pools()
    localities = range(len(cat.LOCALITIES))
    index = household = 0
    while index < people:
        household += 1
        size = min(people - index, _SIZES.draw(rng))
        locality = _LOCALITIES.draw(rng)
        pool = pools[_LOCALE_POOLS.draw(rng)]
        # Needs cluster in families and in deprived localities: a shared household factor.
        factor = rng.lognormvariate(0.0, 0.5) * cat.LOCALITY_NEED[locality]
        address = _address(rng, locality)
        move_at, new_locality, new_address = None, locality, address
        if rng.random() < 0.08:
            move_at = rng.randrange(1, horizon_days) * DAY
            new_locality = rng.choice([loc for loc in localities if loc != locality])
            new_address = _address(rng, new_locality)
        members = []
        for age in _ages(rng, size):
            birth = start - timedelta(days=age * 365 + rng.randrange(365))
            complexity = factor * rng.lognormvariate(mu, sigma)
            members.append(
                Person(index, household, nhs_number(index), rng.choice(pool), birth, age,
                       locality, address, complexity, move_at, new_locality, new_address)
            )  # fmt: skip
            index += 1
        yield members
