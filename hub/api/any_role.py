"""The routes for a key of any role: the published disclosure rules and who the key is.

    GET /v1/disclosure   the rules as data, as `hub disclosure` prints them
    GET /v1/whoami       the caller's role, so a dashboard page knows what to offer

DOMAIN.md, "Disclosure control": the rules and the largest noise any shown count may carry are
published, so every analyst knows the error bound of what they read; the dashboard's note and
its period pickers are drawn from `/v1/disclosure`. Neither answer holds a figure of the record.
"""

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from hub.api.dashboard import ROLE_PAGES
from hub.api.deps import AnyKey, Service
from hub.api.service import NotReadyError
from projections.published import max_error
from schemas.place import Disclosure, Place

router = APIRouter(prefix="/v1", tags=["any role"])


class GridKind(BaseModel):
    kind: str
    """month, quarter, financial_year or year."""
    label_format: str
    example: str
    covers: str


class GridPeriod(BaseModel):
    """One period of the grid: `period=` takes its label."""

    label: str
    kind: str
    start: str
    """Its first month, YYYY-MM."""
    end: str
    """Its last month, YYYY-MM."""


class Periods(BaseModel):
    kinds: list[GridKind]
    whole_record: str
    choices: list[GridPeriod]
    """Every grid period overlapping the record's months (empty before any data)."""


class RateRule(BaseModel):
    name: str
    numerator: str
    denominator: str


class PercentileRule(BaseModel):
    name: str
    group: str
    """The count column whose group must reach `min_group_for_percentiles`."""


class QuestionRules(BaseModel):
    description: str
    cuts: list[str]
    always: list[str]
    """Dims every answer carries, cut or not."""
    counts: list[str]
    rates: list[RateRule]
    percentiles: list[PercentileRule]


class Inference(BaseModel):
    can: list[str]
    cannot: list[str]


class DisclosureRules(BaseModel):
    """The place's disclosure rules as published (DOMAIN.md, "Disclosure control")."""

    place: str
    method: str
    threshold: int
    """True counts from 1 to this never show as such."""
    rounding_base: int
    max_noise: int
    """The largest absolute noise the ptable adds to any count, before rounding."""
    noise_variance: float
    max_error: int
    """The largest |shown - true| of any shown count: max_noise + rounding_base // 2."""
    key_range: int
    min_group_for_percentiles: int
    small_counts: str
    suppressed: str
    periods: Periods
    questions: dict[str, QuestionRules]
    inference: Inference


@router.get(
    "/disclosure",
    response_model=DisclosureRules,
    summary="The published disclosure rules, error bounds and period grid",
    responses={503: {"description": "The hub has no place file yet."}},
)
async def disclosure(who: AnyKey, service: Service) -> DisclosureRules:
    """What every controlled figure has passed, for any key: the method and its parameters,
    the largest error of any shown count, the period grid (with the periods the record covers,
    for pickers), each question's cuts and measures, and what can and cannot be inferred."""
    document = await run_in_threadpool(service.disclosure)
    return DisclosureRules.model_validate(document)


class Disclosed(BaseModel):
    """The place's disclosure rule in brief (`GET /v1/disclosure` publishes it whole, and the
    pages explain their figures from that)."""

    threshold: int
    rounding_base: int
    min_group_for_percentiles: int
    max_noise: int
    max_error: int


class WhoAmI(BaseModel):
    role: str
    agency: str | None
    pages: list[str]
    """The dashboard pages this key may open (none for an agency key)."""
    place: str | None
    """The place's name, once the hub has a place file."""
    partnership: str | None
    """For a steward: the place's own partnership's slug."""
    disclosure: Disclosed | None
    """For a commissioner or steward: the rule every figure they see has passed."""


@router.get("/whoami", response_model=WhoAmI, include_in_schema=False)
def whoami(who: AnyKey, service: Service) -> WhoAmI:
    """The caller's role and agency (any key), the pages it may open and what they need."""
    try:
        place: Place | None = service.place
    except NotReadyError:
        place = None
    reads = who.role in {"commissioner", "steward"}
    return WhoAmI(
        role=who.role,
        agency=who.agency,
        pages=ROLE_PAGES.get(who.role, []),
        place=place.name if place else None,
        partnership=place.slug if place and place.partnership and who.role == "steward" else None,
        disclosure=_disclosed(place.disclosure) if place and reads else None,
    )


def _disclosed(rules: Disclosure) -> Disclosed:
    return Disclosed(
        threshold=rules.threshold,
        rounding_base=rules.rounding_base,
        min_group_for_percentiles=rules.min_group_for_percentiles,
        max_noise=rules.max_noise,
        max_error=max_error(rules),
    )
