"""The place file (`place.toml`): agencies, localities, codes, outcome framework, disclosure.

place = load_place(Path("place.toml"))
"""

import tomllib
import typing
from collections import Counter
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, model_validator

from schemas.base import Code, Contract, Text, Version
from schemas.errors import PlaceError
from schemas.outcomes import OutcomeDefinition, Percent
from schemas.validation import describe

Sector = Literal["council", "nhs", "police", "housing", "school", "vcs", "informal", "private"]
SECTORS: tuple[str, ...] = typing.get_args(Sector)


class Agency(Contract):
    slug: Code
    name: Text
    sector: Sector


class Coded(Contract):
    """A code with its human name (localities, needs, purposes...)."""

    code: Code
    name: Text


class Service(Contract):
    code: Code
    name: Text
    agency: Code
    needs: list[Code] = []
    hsds_id: Annotated[str, Field(pattern=r"^[0-9a-f-]{36}$")] | None = None


class Disclosure(Contract):
    """Disclosure control (DOMAIN.md): every count perturbed by the cell key method from a ptable
    of these parameters (true counts 1..threshold never show, no count moves by more than
    `max_noise`, the noise's variance `noise_variance`), then rounded to `rounding_base`.
    `max_noise` must exceed `threshold`: unbiased noise must be able to take a count just above
    the threshold down, and the only way down is to 0."""

    threshold: Annotated[int, Field(ge=1, le=100)] = 7
    rounding_base: Annotated[int, Field(ge=1, le=100)] = 5
    min_group_for_percentiles: Annotated[int, Field(ge=2, le=1000)] = 8
    max_noise: Annotated[int, Field(ge=1, le=100)] = 8
    noise_variance: Annotated[float, Field(gt=0, le=1000)] = 9.0

    @model_validator(mode="after")
    def check_noise_reaches_zero(self) -> "Disclosure":
        if self.max_noise <= self.threshold:
            raise ValueError(
                "max_noise: must be greater than threshold, or a count just above the threshold "
                "could never move down unbiased (1..threshold never show): raise max_noise or "
                "lower threshold"
            )
        # Rounding a shown count (0, or above the threshold) must not bring it into 1..threshold.
        above = self.threshold + 1
        if (2 * above + self.rounding_base) // (
            2 * self.rounding_base
        ) * self.rounding_base in range(1, self.threshold + 1):
            raise ValueError(
                "rounding_base: a count just above the threshold would round into 1..threshold; "
                "use a base that rounds it up or above the threshold"
            )
        return self


class Commitment(Contract):
    """A partner's own contribution to a shared outcome, with its own measure and target."""

    partner: Code
    outcome: Code
    contribution: Text
    measure: Text
    target: Percent


class PartnershipPlan(Contract):
    """The partnership the place starts with, formed through the Partnership's own commands."""

    name: Text
    partners: Annotated[list[Code], Field(min_length=2)]
    outcomes: list[Code] = []
    commitments: list[Commitment] = []


class Place(Contract):
    name: Text
    slug: Code
    timezone: str = "Europe/London"
    agencies: Annotated[list[Agency], Field(min_length=1)]
    localities: Annotated[list[Coded], Field(min_length=1)]
    needs: Annotated[list[Coded], Field(min_length=1)]
    purposes: list[Coded] = []
    assessment_domains: list[Coded] = []
    instruments: list[Coded] = []
    services: list[Service] = []
    outcomes: list[OutcomeDefinition] = []
    partnership: PartnershipPlan | None = None
    disclosure: Disclosure = Disclosure()
    key_version: Version = 1

    @model_validator(mode="after")
    def check_references(self) -> "Place":
        problems: list[str] = []
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"timezone: {self.timezone!r} is not an IANA time zone")
        for name in (
            "agencies",
            "localities",
            "needs",
            "purposes",
            "assessment_domains",
            "instruments",
            "services",
            "outcomes",
        ):
            items = getattr(self, name)
            key = "slug" if name == "agencies" else "code"
            for code, n in Counter(getattr(item, key) for item in items).items():
                if n > 1:
                    problems.append(f"{name}: {code!r} is listed {n} times")
        agencies, needs = self.agency_slugs, self.need_codes
        for i, service in enumerate(self.services):
            if service.agency not in agencies:
                problems.append(f"services[{i}].agency: {service.agency!r} is not an agency")
            problems += _unknown(f"services[{i}].needs", service.needs, needs)
        for i, outcome in enumerate(self.outcomes):
            problems += _unknown(f"outcomes[{i}].cohort.needs", outcome.cohort.needs, needs)
            problems += _unknown(f"outcomes[{i}].cohort.sectors", outcome.cohort.sectors, SECTORS)
        if self.partnership is not None:
            plan, outcomes = self.partnership, {o.code for o in self.outcomes}
            problems += _unknown("partnership.partners", plan.partners, agencies)
            problems += _unknown("partnership.outcomes", plan.outcomes, outcomes)
            for i, c in enumerate(plan.commitments):
                problems += _unknown(
                    f"partnership.commitments[{i}].partner", [c.partner], plan.partners
                )
                problems += _unknown(
                    f"partnership.commitments[{i}].outcome", [c.outcome], plan.outcomes
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def agency_slugs(self) -> set[str]:
        return {a.slug for a in self.agencies}

    @property
    def need_codes(self) -> set[str]:
        return {n.code for n in self.needs}

    @property
    def locality_codes(self) -> set[str]:
        return {loc.code for loc in self.localities}

    def agency(self, slug: str) -> Agency:
        """The agency with this slug, or a PlaceError naming the known ones."""
        for agency in self.agencies:
            if agency.slug == slug:
                return agency
        known = ", ".join(sorted(self.agency_slugs))
        raise PlaceError(f"{slug!r} is not an agency of the place {self.slug!r} (known: {known})")

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _unknown(where: str, codes: list[str], known: object) -> list[str]:
    return [f"{where}: {code!r} is not defined in the place" for code in codes if code not in known]  # type: ignore[operator]


def load_place(path: Path) -> Place:
    """Read and check a place file; a PlaceError says which line or field is wrong and why."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise PlaceError(f"{path}: cannot read the place file ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PlaceError(f"{path}: not valid TOML: {exc}") from None
    try:
        return Place.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{field}: {reason}" for field, reason in describe(exc)]
        raise PlaceError(
            f"{path}: " + "\n  ".join(["the place file is not valid:", *lines])
        ) from None
