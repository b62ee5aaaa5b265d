"""The values each question's columns may take, from the place: what a table lists in full.

A table lists every combination of its asked columns' values that the place allows, zeros and
small counts alike, so that a row's presence says nothing (DOMAIN.md, "Disclosure control").
Columns that go together are one domain (an agency with its sector, a service with its agency,
a commitment's partner with its outcome), so a table never lists a combination the place
cannot hold. Months are the asked grid period's, or for the whole record every month of the
calendar and financial years it touches (`record_months`: where the record starts and ends
shows only to the year); years and attainment periods follow from them.

Pathways (journeys) are the one column whose values the place does not list: every sequence of
up to three of its agencies would run to thousands. Their domain is the pathways whose whole-record
count shows above zero (`shown_pathways`, a figure already published), so listing one says
no more than that published figure does.
"""

from collections.abc import Sequence

from projections.perturbed import Domain

MONTHS_OF_PERIOD = "select unnest($grid_months::varchar[]) as month"
MONTHS_OF_RECORD = "select month from record_months"

AGENCY = Domain(("agency", "sector"), "select agency, sector from domain_agencies")
LOCALITY = Domain(("locality",), "select locality from domain_localities")
NEED = Domain(("need",), "select need from domain_needs")
NEED_OR_NONE = Domain(("need",), "select need from domain_needs union all select null")
AGENCY_PAIR = Domain(
    ("from_agency", "to_agency"),
    "select a.agency as from_agency, b.agency as to_agency"
    " from domain_agencies as a cross join domain_agencies as b",
)
SERVICE = Domain(
    ("agency", "service"),
    "select agency, service from domain_services union all select agency, null from"
    " domain_agencies",
)
PATHWAY = Domain(("pathway",), "select pathway from domain_pathways")


def months(whole_record: bool) -> Domain:
    return Domain(("month",), MONTHS_OF_RECORD if whole_record else MONTHS_OF_PERIOD)


def years(whole_record: bool) -> Domain:
    source = MONTHS_OF_RECORD if whole_record else MONTHS_OF_PERIOD
    return Domain(("year",), f"select distinct left(month, 4) as year from ({source})")


def attainment(whole_record: bool, by_partner: bool) -> Domain:
    """Outcomes with their periods (on the grid, by the outcome's period length) and, asked by
    partner, the partners committed to each."""
    source = MONTHS_OF_RECORD if whole_record else MONTHS_OF_PERIOD
    periods = (
        f"select distinct outcome_rules.outcome, {PERIOD_LABEL} as period"
        f" from outcome_rules cross join ({source}) as m"
    )
    if by_partner:
        return Domain(
            ("outcome", "partner", "period"),
            f"select p.outcome, c.partner, p.period from ({periods}) as p"
            " inner join commitments as c on c.outcome = p.outcome",
        )
    return Domain(("outcome", "period"), periods)


# The grid label of a month's attainment period (`m.month`, `outcome_rules.period_months`):
# the month itself, its quarter, or its calendar year. attainment.sql labels members the same.
PERIOD_LABEL = (
    "case outcome_rules.period_months"
    " when 1 then m.month"
    " when 3 then left(m.month, 4) || '-Q' || ((cast(right(m.month, 2) as integer) + 2) // 3)"
    " else left(m.month, 4) end"
)


def domains_for(slug: str, columns: Sequence[str], whole_record: bool) -> list[Domain]:
    """The domains of a question's asked columns, each once."""
    by_column: dict[str, Domain] = {
        "month": months(whole_record),
        "locality": LOCALITY,
        "agency": SERVICE if slug == "waits" else AGENCY,
        "sector": AGENCY,
        "need": NEED_OR_NONE if slug in {"journeys"} else NEED,
        "from_agency": AGENCY_PAIR,
        "to_agency": AGENCY_PAIR,
        "service": SERVICE,
        "pathway": PATHWAY,
        "year": years(whole_record),
    }
    if slug == "attainment":
        domain = attainment(whole_record, "partner" in columns)
        by_column |= {column: domain for column in domain.columns}
    found: dict[str, Domain] = {}
    for column in columns:
        domain = by_column[column]
        found.setdefault(domain.select, domain)
    return list(found.values())
