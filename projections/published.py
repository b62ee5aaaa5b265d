"""The published disclosure rules, as data: what `GET /v1/disclosure` and `hub disclosure` give.

DOMAIN.md, "Disclosure control": the rules, and the largest noise any shown count may carry, are
published, as the ONS publishes its ptable's parameters, so an analyst knows the error bound of
every figure. Nothing here is a figure of the record: only the place's parameters, the period
grid (and which of its periods the record's months overlap), and each question's shape.

    document = disclosure_document(place, ("2024-01", "2025-12"))
    document["max_error"]            # 10: max_noise 8 plus half the rounding base 5, rounded down
    document["periods"]["choices"]   # every grid period overlapping 2024-01..2025-12
"""

from typing import Any

from projections.periods import FORMATS, KINDS, grid_within
from projections.questions import QUESTIONS
from projections.unit_keys import KEY_RANGE
from schemas.place import Disclosure, Place

METHOD = "cell key perturbation"


def max_error(rules: Disclosure) -> int:
    """The largest |shown - true| of any shown count: its noise, then rounding to the base."""
    return rules.max_noise + rules.rounding_base // 2


def small_counts(rules: Disclosure) -> str:
    return (
        f"A true count from 1 to {rules.threshold} never shows as such; it and a true 0 can "
        "both show as 0, so a shown 0 does not say whether anyone was counted."
    )


def inference(rules: Disclosure) -> dict[str, list[str]]:
    """What a commissioner can and cannot infer from the figures, in a few sentences."""
    bound = max_error(rules)
    return {
        "can": [
            f"Any shown count is within {bound} of the true count (noise of at most "
            f"{rules.max_noise}, then rounding to the nearest {rules.rounding_base}).",
            "The same cell shows the same figure in every table, route, page, export and "
            "replay, however often it is asked: asking again gains nothing.",
            "Trends, comparisons and shares of counts well above the error bound are sound; "
            "a rate is computed from the perturbed counts and rounded to a whole percent.",
        ],
        "cannot": [
            f"Whether a cell shown as 0 held nobody or from 1 to {rules.threshold} people.",
            "A cell's exact count, by adding or subtracting other cells or totals: each total "
            "is perturbed from its own units, so the noise does not cancel.",
            "A span of its own choosing: only the grid's months, quarters, financial and "
            "calendar years are answered, each perturbed from its own units, so a quarter less "
            "its months leaves noise, not a count.",
            "Anything about one person: only the whitelisted cuts are offered, and "
            f"medians and percentiles are shown only for groups of at least "
            f"{rules.min_group_for_percentiles}.",
        ],
    }


def periods_document(months: tuple[str, str] | None) -> dict[str, Any]:
    """The grid's kinds with their label formats, and the choices over the record's months."""
    choices = [] if months is None else grid_within(*months)
    return {
        "kinds": [
            {
                "kind": kind,
                "label_format": FORMATS[kind][0],
                "example": FORMATS[kind][1],
                "covers": FORMATS[kind][2],
            }
            for kind in KINDS
        ],
        "whole_record": "ask no period at all for the whole record",
        "choices": [period.to_json() for period in choices],
    }


def questions_document() -> dict[str, dict[str, Any]]:
    """Each question's description, cuts, always-present dims and measures."""
    return {
        slug: {
            "description": q.description,
            "cuts": list(q.cuts),
            "always": list(q.always),
            "counts": list(q.counts),
            "rates": [
                {"name": r.name, "numerator": r.numerator, "denominator": r.denominator}
                for r in q.rates
            ],
            "percentiles": [{"name": p.name, "group": p.group_size} for p in q.percentiles],
        }
        for slug, q in QUESTIONS.items()
    }


def disclosure_document(place: Place, months: tuple[str, str] | None) -> dict[str, Any]:
    """The place's published disclosure rules; `months` are the first and last months of the
    record (None before any data: no period choices yet)."""
    rules = place.disclosure
    return {
        "place": place.name,
        "method": METHOD,
        "threshold": rules.threshold,
        "rounding_base": rules.rounding_base,
        "max_noise": rules.max_noise,
        "noise_variance": rules.noise_variance,
        "max_error": max_error(rules),
        "key_range": KEY_RANGE,
        "min_group_for_percentiles": rules.min_group_for_percentiles,
        "small_counts": small_counts(rules),
        "suppressed": (
            "No count is suppressed. A rate whose denominator shows 0, and a median or "
            f"percentile of a group under {rules.min_group_for_percentiles}, are: "
            '{"value": null, "suppressed": true}.'
        ),
        "periods": periods_document(months),
        "questions": questions_document(),
        "inference": inference(rules),
    }
