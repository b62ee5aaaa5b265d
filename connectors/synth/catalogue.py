"""The fictional place Northbridge: agencies, localities, codes, services, outcomes, partnership."""

import functools
from dataclasses import dataclass

from connectors.synth.dice import Weighted

PLACE_NAME, PLACE_SLUG, TIMEZONE = "Northbridge", "northbridge", "Europe/London"


@dataclass(frozen=True)
class Profile:
    """How one agency behaves in the simulation (who it sees, how fast, what it records)."""

    slug: str
    name: str
    sector: str
    accept: float  # share of referrals accepted
    wait_days: float  # median days from acceptance to service start
    duration_days: float  # median length of a service
    missed_per_month: float  # missed appointments per month of service (0: not recorded)
    channels: tuple[tuple[str, float], ...]  # contact channels (empty: records no contacts)
    purposes: tuple[str, ...]
    assesses: bool
    outcomes: bool
    person_share: float  # share of outcomes the person reports themself


# fmt: off
_PHONE_VISIT = (("phone", 0.5), ("visit", 0.4), ("outreach", 0.1))
PROFILES: tuple[Profile, ...] = (
    Profile("council-childrens", "Northbridge Council Children's Social Care", "council",
            0.55, 10, 120, 0.2, (("phone", 0.6), ("visit", 0.4)),
            ("safeguarding", "welfare-check"), True, True, 0.1),
    Profile("council-adults", "Northbridge Council Adult Social Care", "council",
            0.7, 28, 42, 0.0, (), (), True, True, 0.2),
    Profile("council-early-help", "Northbridge Early Help Hub", "council",
            0.8, 21, 120, 0.25, (("phone", 0.5), ("visit", 0.3), ("walk-in", 0.2)),
            ("advice", "welfare-check", "follow-up"), True, True, 0.3),
    Profile("nhs-gp", "Northbridge GP Federation", "nhs",
            0.9, 14, 60, 0.3, (("visit", 0.55), ("phone", 0.35), ("online", 0.1)),
            ("health-check", "advice", "follow-up"), True, True, 0.35),
    Profile("nhs-mental-health", "North Riverside Mental Health NHS Trust", "nhs",
            0.6, 56, 90, 0.5, (("phone", 0.8), ("outreach", 0.2)),
            ("crisis", "advice"), True, True, 0.5),
    Profile("nhs-acute", "Northbridge General Hospital", "nhs",
            0.85, 21, 30, 0.3, (("walk-in", 0.85), ("phone", 0.15)),
            ("crisis", "health-check"), True, False, 0.0),
    Profile("police-north", "Northern Constabulary, Northbridge District", "police",
            0.8, 7, 90, 0.0, _PHONE_VISIT, ("safeguarding",), True, False, 0.0),
    Profile("housing-northbridge", "Northbridge Homes", "housing",
            0.7, 30, 180, 0.2, (("walk-in", 0.4), ("phone", 0.4), ("online", 0.2)),
            ("advice", "follow-up"), True, True, 0.25),
    Profile("schools-trust", "Riverside Learning Trust", "school",
            0.9, 7, 90, 0.15, (("visit", 0.5), ("phone", 0.5)),
            ("attendance", "welfare-check"), False, True, 0.0),
    Profile("vcs-advice", "Northbridge Citizens Advice", "vcs",
            0.85, 10, 45, 0.2, (("walk-in", 0.4), ("phone", 0.4), ("online", 0.2)),
            ("advice", "signposting"), False, True, 0.5),
    Profile("peer-circle", "Ashfield Peer Support Circle", "informal",
            0.95, 3, 120, 0.0, (("walk-in", 0.7), ("outreach", 0.3)),
            ("peer-support",), False, True, 1.0),
    Profile("homecare-bright", "BrightCare Home Support Ltd", "private",
            0.8, 14, 180, 0.2, (), (), True, True, 0.2),
)
# fmt: on
PROFILE = {p.slug: p for p in PROFILES}

# fmt: off
_LOCALITY_NAMES = (
    "Ashfield", "Brookside", "Castlegate", "Dunmore", "Eastwick", "Fenwick", "Greystone",
    "Hollins", "Ironbridge", "Juniper Park", "Kingsmead", "Larkhill", "Millbrook", "Northgate",
    "Oakwood", "Pennyfields", "Quarry Bank", "Riverside", "Saltmarsh", "Thornley", "Upperton",
    "Victoria Docks", "Westfield", "Yarrow Vale",
)
LOCALITIES: tuple[tuple[str, str], ...] = tuple(
    (name.lower().replace(" ", "-"), name) for name in _LOCALITY_NAMES
)
# Deprivation varies across the place: it scales how many people need help and how much.
LOCALITY_WEIGHT = tuple(1.0 + (i * 7 % 5) * 0.25 for i in range(len(LOCALITIES)))
LOCALITY_NEED = tuple(0.6 + (i * 11 % 9) * 0.15 for i in range(len(LOCALITIES)))

NEEDS: tuple[tuple[str, str], ...] = (
    ("housing", "Housing and homelessness"),
    ("mental-health", "Mental health"),
    ("domestic-abuse", "Domestic abuse"),
    ("substance-use", "Drug and alcohol use"),
    ("financial-hardship", "Financial hardship and debt"),
    ("child-welfare", "Child welfare"),
    ("school-attendance", "School attendance"),
    ("physical-health", "Physical health and frailty"),
    ("social-isolation", "Loneliness and social isolation"),
    ("youth-offending", "Youth offending"),
)
# Which needs arise at which ages: (need, youngest, oldest, weight for child/adult/older).
NEED_AGES: tuple[tuple[str, int, int, tuple[float, float, float]], ...] = (
    ("housing", 16, 120, (0, 3, 0.5)),
    ("mental-health", 8, 120, (2, 4, 1)),
    ("domestic-abuse", 14, 120, (0.5, 2, 0.3)),
    ("substance-use", 13, 120, (0.3, 2, 0.3)),
    ("financial-hardship", 18, 120, (0, 3, 1)),
    ("child-welfare", 0, 17, (4, 0, 0)),
    ("school-attendance", 5, 16, (3, 0, 0)),
    ("physical-health", 0, 120, (2, 2, 5)),
    ("social-isolation", 16, 120, (0, 1, 4)),
    ("youth-offending", 10, 17, (1, 0, 0)),
)
# Where each need first comes to light: the agencies that record the first contact.
ENTRY: dict[str, tuple[tuple[str, float], ...]] = {
    "housing": (("housing-northbridge", 3), ("vcs-advice", 2), ("nhs-gp", 1), ("police-north", 1)),
    "mental-health": (("nhs-gp", 4), ("nhs-acute", 2), ("police-north", 1),
                      ("peer-circle", 1), ("nhs-mental-health", 1), ("schools-trust", 1)),
    "domestic-abuse": (("police-north", 4), ("nhs-gp", 1), ("nhs-acute", 1), ("vcs-advice", 1),
                       ("council-childrens", 0.5)),
    "substance-use": (("nhs-acute", 2), ("police-north", 1), ("nhs-gp", 2), ("peer-circle", 1)),
    "financial-hardship": (("vcs-advice", 3), ("housing-northbridge", 1), ("nhs-gp", 1),
                           ("council-early-help", 1)),
    "child-welfare": (("schools-trust", 3), ("police-north", 2), ("nhs-gp", 1),
                      ("council-childrens", 1), ("council-early-help", 1)),
    "school-attendance": (("schools-trust", 5), ("council-early-help", 1)),
    "physical-health": (("nhs-gp", 5), ("nhs-acute", 3)),
    "social-isolation": (("nhs-gp", 2), ("peer-circle", 2), ("vcs-advice", 1)),
    "youth-offending": (("police-north", 4), ("schools-trust", 1)),
}

# fmt: on


@dataclass(frozen=True)
class ServiceDef:
    """A service of the place, owned by one agency, for some needs and ages."""

    code: str
    name: str
    agency: str
    needs: tuple[str, ...]
    ages: tuple[int, int]
    hsds: bool = False


# fmt: off
SERVICES: tuple[ServiceDef, ...] = (
    ServiceDef("cs-child-protection", "Child protection", "council-childrens",
               ("child-welfare", "domestic-abuse"), (0, 17)),
    ServiceDef("cs-children-in-need", "Children in need support", "council-childrens",
               ("child-welfare",), (0, 17)),
    ServiceDef("asc-reablement", "Reablement", "council-adults", ("physical-health",), (18, 120)),
    ServiceDef("asc-community-support", "Community support", "council-adults",
               ("social-isolation", "physical-health"), (18, 120)),
    ServiceDef("eh-family-support", "Early help family support", "council-early-help",
               ("child-welfare", "school-attendance", "domestic-abuse", "youth-offending",
                "financial-hardship"), (0, 120)),
    ServiceDef("gp-social-prescribing", "Social prescribing", "nhs-gp",
               ("social-isolation", "financial-hardship", "mental-health"), (16, 120), True),
    ServiceDef("mh-talking-therapies", "Talking therapies", "nhs-mental-health",
               ("mental-health",), (16, 120)),
    ServiceDef("mh-community-team", "Community mental health team", "nhs-mental-health",
               ("mental-health", "substance-use"), (8, 120)),
    ServiceDef("acute-alcohol-care", "Alcohol care team", "nhs-acute", ("substance-use",),
               (16, 120)),
    ServiceDef("acute-falls-clinic", "Falls and frailty clinic", "nhs-acute",
               ("physical-health",), (50, 120)),
    ServiceDef("police-youth-diversion", "Youth diversion scheme", "police-north",
               ("youth-offending",), (10, 17)),
    ServiceDef("hsg-tenancy-sustainment", "Tenancy sustainment", "housing-northbridge",
               ("housing", "financial-hardship"), (18, 120)),
    ServiceDef("hsg-homelessness-prevention", "Homelessness prevention", "housing-northbridge",
               ("housing", "domestic-abuse"), (16, 120)),
    ServiceDef("sch-attendance-support", "Attendance support", "schools-trust",
               ("school-attendance",), (5, 16)),
    ServiceDef("sch-pastoral-mentoring", "Pastoral mentoring", "schools-trust",
               ("school-attendance", "mental-health", "youth-offending"), (8, 17)),
    ServiceDef("vcs-debt-advice", "Debt and benefits advice", "vcs-advice",
               ("financial-hardship", "housing"), (18, 120), True),
    ServiceDef("vcs-da-outreach", "Domestic abuse outreach", "vcs-advice",
               ("domestic-abuse",), (16, 120), True),
    ServiceDef("peer-recovery-circle", "Recovery peer circle", "peer-circle",
               ("substance-use", "mental-health"), (18, 120), True),
    ServiceDef("peer-friendship-group", "Friendship group", "peer-circle",
               ("social-isolation",), (18, 120), True),
    ServiceDef("homecare-domiciliary", "Domiciliary care", "homecare-bright",
               ("physical-health", "social-isolation"), (18, 120)),
)

PURPOSES = ("advice", "safeguarding", "welfare-check", "crisis", "follow-up", "signposting",
            "attendance", "health-check", "peer-support")
DOMAINS = ("safeguarding-risk", "mental-state", "daily-living", "family-functioning",
           "housing-need", "financial-capability")
# Each need is assessed in one domain and measured by one outcome of the framework.
NEED_DOMAIN = {
    "housing": "housing-need", "mental-health": "mental-state",
    "domestic-abuse": "safeguarding-risk", "substance-use": "mental-state",
    "financial-hardship": "financial-capability", "child-welfare": "safeguarding-risk",
    "school-attendance": "family-functioning", "physical-health": "daily-living",
    "social-isolation": "daily-living", "youth-offending": "safeguarding-risk",
}
# Instruments: (code, name, lowest, highest, decimals); higher is better on every scale.
INSTRUMENTS: tuple[tuple[str, str, float, float, int], ...] = (
    ("swemwbs", "Short Warwick-Edinburgh Mental Wellbeing Scale", 7, 35, 0),
    ("housing-stability", "Tenancy stability scale", 1, 5, 0),
    ("attendance-percent", "Attendance over the last half term (%)", 0, 100, 1),
    ("outcomes-star", "Family Star Plus", 1, 10, 0),
    ("ons4-satisfaction", "ONS life satisfaction", 0, 10, 0),
)
# fmt: on
INSTRUMENT = {i[0]: i for i in INSTRUMENTS}


@dataclass(frozen=True)
class OutcomeDef:
    """An outcome of the framework with the one instrument it is measured on."""

    code: str
    name: str
    instrument: str
    events: tuple[str, ...]
    needs: tuple[str, ...]
    sectors: tuple[str, ...]
    min_value: float
    within_days: int
    target: float
    period: int


# fmt: off
OUTCOMES: tuple[OutcomeDef, ...] = (
    OutcomeDef("wellbeing-improved", "Mental wellbeing improved", "swemwbs",
               ("hub.service.started",), ("mental-health", "substance-use"), (), 24, 180, 45, 12),
    OutcomeDef("tenancy-sustained", "Tenancy sustained", "housing-stability",
               ("hub.referral.made", "hub.service.started"), ("housing", "financial-hardship"),
               (), 4, 365, 70, 12),
    OutcomeDef("school-attendance-improved", "School attendance above 90%",
               "attendance-percent", ("hub.contact.recorded", "hub.referral.made"),
               ("school-attendance",), (), 90, 180, 50, 12),
    OutcomeDef("family-resilience", "Family resilience", "outcomes-star",
               ("hub.service.started",), ("child-welfare", "domestic-abuse", "youth-offending"),
               ("council", "police", "vcs"), 7, 270, 40, 12),
    OutcomeDef("living-independently", "Living well and independently", "ons4-satisfaction",
               ("hub.assessment.completed", "hub.service.started"),
               ("physical-health", "social-isolation"), (), 7, 180, 55, 3),
)
NEED_OUTCOME = {n: o for o in OUTCOMES for n in o.needs}

COMMITMENTS: tuple[tuple[str, str, str, str, float], ...] = (
    ("council-childrens", "family-resilience", "Whole-family plans for every child in need",
     "Children in need with a family plan within 20 working days", 85),
    ("council-adults", "living-independently", "Reablement before any long-term care package",
     "Reablement episodes ending with no ongoing care", 70),
    ("council-early-help", "school-attendance-improved", "Family support for persistent absence",
     "Families supported whose child's attendance rose above 90%", 50),
    ("nhs-gp", "living-independently", "Social prescribing offered to every isolated patient",
     "Isolated patients referred to social prescribing", 60),
    ("nhs-mental-health", "wellbeing-improved", "Talking therapies started within six weeks",
     "Referrals starting treatment within 42 days", 75),
    ("police-north", "family-resilience", "Every domestic abuse incident shared within 24 hours",
     "Domestic abuse incidents referred on within a day", 90),
    ("housing-northbridge", "tenancy-sustained", "No eviction without a sustainment offer",
     "Tenancies at risk offered sustainment support", 95),
    ("vcs-advice", "tenancy-sustained", "Debt advice for every tenant in arrears referred",
     "Referred tenants seen within 10 days", 80),
)
# fmt: on

# Agencies that only see some ages (schools see children; the peer group adults).
AGENCY_AGES = {"schools-trust": (4, 17), "peer-circle": (18, 120), "council-childrens": (0, 17)}


@functools.cache
def service_at(agency: str, need: str, age: int) -> ServiceDef | None:
    """The agency's service for this need and age, if it has one."""
    for s in SERVICES:
        if s.agency == agency and need in s.needs and s.ages[0] <= age <= s.ages[1]:
            return s
    return None


@functools.cache
def providers(need: str, age: int) -> tuple[str, ...]:
    """The agencies with a service for the need and age (an agency once, however many)."""
    return tuple(dict.fromkeys(s.agency for s in SERVICES if service_at(s.agency, need, age)))


@functools.cache
def needs_at(age: int) -> Weighted[str]:
    """The needs that arise at this age, weighted by how often."""
    band = 0 if age < 18 else (1 if age < 65 else 2)
    return Weighted((n, w[band]) for n, lo, hi, w in NEED_AGES if lo <= age <= hi)


@functools.cache
def doors(need: str, age: int) -> Weighted[str]:
    """The front doors where a need first shows, for someone of this age."""
    found = [(a, w) for a, w in ENTRY[need] if fits(a, age)]
    return Weighted(found or [("nhs-gp", 1.0)])


def fits(agency: str, age: int) -> bool:
    """Whether the agency sees people of this age."""
    lo, hi = AGENCY_AGES.get(agency, (0, 120))
    return lo <= age <= hi
