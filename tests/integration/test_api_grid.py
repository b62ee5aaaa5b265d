"""Issue 15 over the served API: commissioners and stewards ask one period of the fixed grid (or
the whole record), never a span of their own; the published rules answer any key; auditors keep
their exact spans, and a controlled replay is held to the grid."""

from typing import Any

import pytest

from tests.integration.test_api import base_url, call, keys, place_dir  # noqa: F401  (fixtures)

GRID = {
    "2024-03": ("month", "2024-03", "2024-03"),
    "2024-Q2": ("quarter", "2024-04", "2024-06"),
    "FY2024-25": ("financial_year", "2024-04", "2025-03"),
    "2025": ("year", "2025-01", "2025-12"),
}
ANSWERS = {
    "commissioner": "/v1/questions/demand?by=sector",
    "steward": "/v1/partnerships/northbridge/attainment?by=partner",
}
NOT_THE_GRID = [
    ("2024-01", "2024-05"),
    ("2024-02", "2024-04"),
    ("2024-02", "2025-01"),
    ("2024-01", "2025-12"),
    ("2024-06", "2024-01"),
]


def _months(answer: dict[str, Any]) -> set[str]:
    return {row["month"] for row in [*answer["rows"], *answer["totals"]] if "month" in row}


@pytest.mark.parametrize("label", GRID)
def test_each_kind_of_grid_period_is_answered_with_its_label_and_months(
    base_url: str,  # noqa: F811
    keys: dict[str, str],  # noqa: F811
    label: str,
) -> None:
    kind, start, end = GRID[label]
    for role, path in ANSWERS.items():
        response = call(base_url, keys[role], "GET", f"{path}&period={label}")
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["period"] == {"label": label, "kind": kind, "start": start, "end": end}
        assert all(start <= month <= end for month in _months(answer)), role


def test_no_period_is_the_whole_record_and_answers_period_null(
    base_url: str,  # noqa: F811
    keys: dict[str, str],  # noqa: F811
) -> None:
    answer = call(base_url, keys["commissioner"], "GET", ANSWERS["commissioner"]).json()
    assert answer["period"] is None
    quarter = call(
        base_url, keys["commissioner"], "GET", ANSWERS["commissioner"] + "&period=2024-Q2"
    ).json()
    assert _months(quarter) < _months(answer)


def test_a_span_naming_one_grid_period_is_answered_as_that_period(
    base_url: str,  # noqa: F811
    keys: dict[str, str],  # noqa: F811
) -> None:
    for label, (_, start, end) in GRID.items():
        by_span = call(
            base_url, keys["commissioner"], "GET", f"/v1/questions/demand?from={start}&to={end}"
        ).json()
        by_label = call(
            base_url, keys["commissioner"], "GET", f"/v1/questions/demand?period={label}"
        ).json()
        assert by_span["period"]["label"] == label
        assert by_span["rows"] == by_label["rows"]


@pytest.mark.parametrize(("start", "end"), NOT_THE_GRID)
def test_a_span_that_is_not_one_grid_period_is_a_422_saying_how_to_ask(
    base_url: str,  # noqa: F811
    keys: dict[str, str],  # noqa: F811
    start: str,
    end: str,
) -> None:
    for role, path in ANSWERS.items():
        response = call(base_url, keys[role], "GET", f"{path}&from={start}&to={end}")
        assert response.status_code == 422, response.text
        refusal = response.json()
        assert refusal["field"] == "from"
        assert "one period of the grid" in refusal["reason"]
        assert "period" in refusal["reason"]  # the API's own word, not withheld
        assert start not in response.text
        assert end not in response.text


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=2024-Q2&from=2024-04&to=2024-06", "period"),
        ("period=2024-Q2&from=2024-04", "period"),
        ("period=2024&to=2024-12", "period"),
        ("period=2024-Q5", "period"),
        ("period=FY2024-26", "period"),
        ("period=2024-01-01", "period"),
        ("to=2024-06", "from"),
    ],
)
def test_a_period_asked_two_ways_or_off_the_grid_is_a_422_naming_the_field(
    base_url: str,  # noqa: F811
    keys: dict[str, str],  # noqa: F811
    query: str,
    field: str,
) -> None:
    for role, path in ANSWERS.items():
        response = call(base_url, keys[role], "GET", f"{path}&{query}")
        assert (response.status_code, response.json()["field"]) == (422, field), response.text
        assert response.json()["reason"]


@pytest.mark.parametrize("role", ["commissioner", "steward", "auditor", "own agency"])
def test_the_published_rules_answer_every_role(
    base_url: str,  # noqa: F811
    keys: dict[str, str],  # noqa: F811
    role: str,
) -> None:
    response = call(base_url, keys[role], "GET", "/v1/disclosure")
    assert response.status_code == 200, response.text
    rules = response.json()
    assert rules["method"] == "cell key perturbation"
    assert rules["max_error"] == rules["max_noise"] + rules["rounding_base"] // 2
    assert rules["key_range"] == 256
    choices = rules["periods"]["choices"]
    assert {c["kind"] for c in choices} == {"month", "quarter", "financial_year", "year"}
    for choice in choices:  # each one asks as it says
        kind, start, end = choice["kind"], choice["start"], choice["end"]
        assert GRID.get(choice["label"], (kind, start, end)) == (kind, start, end)
    assert set(rules["questions"]) >= {"demand", "waits", "attainment"}
    assert rules["questions"]["demand"]["cuts"] == ["locality", "agency", "sector", "need"]
    assert rules["inference"]["can"]
    assert rules["inference"]["cannot"]


def test_the_published_rules_choices_are_answered_and_need_a_key(
    base_url: str,  # noqa: F811
    keys: dict[str, str],  # noqa: F811
) -> None:
    rules = call(base_url, keys["commissioner"], "GET", "/v1/disclosure").json()
    for choice in rules["periods"]["choices"][::7]:
        path = f"/v1/questions/repeat_demand?period={choice['label']}"
        assert call(base_url, keys["commissioner"], "GET", path).status_code == 200
    for key in (None, keys["revoked"], "hub.00000000.not-a-key"):
        refused = call(base_url, key, "GET", "/v1/disclosure")
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        assert set(refused.json()) == {"field", "reason"}


def test_the_auditor_keeps_any_span_exactly_but_a_controlled_replay_only_on_the_grid(
    base_url: str,  # noqa: F811
    keys: dict[str, str],  # noqa: F811
) -> None:
    auditor = keys["auditor"]
    replay = "/v1/audit/replay?position=1000000000&question=demand"
    exact = call(base_url, auditor, "GET", f"{replay}&from=2024-01&to=2024-05")
    assert exact.status_code == 200, exact.text
    assert {row["month"] for row in exact.json()["rows"]} <= {f"2024-0{m}" for m in range(1, 6)}
    refused = call(base_url, auditor, "GET", f"{replay}&exact=false&from=2024-01&to=2024-05")
    assert (refused.status_code, refused.json()["field"]) == (422, "from"), refused.text
    assert "one period of the grid" in refused.json()["reason"]
    controlled = call(base_url, auditor, "GET", f"{replay}&exact=false&from=2024-04&to=2024-06")
    assert controlled.status_code == 200, controlled.text
    assert "rows" in controlled.json()
    traced = call(
        base_url,
        auditor,
        "GET",
        "/v1/audit/trace/demand?cell=month=2024-03&from=2024-02&to=2024-03",
    )
    assert traced.status_code == 200, traced.text


def _total_of(answer: dict[str, Any], month: str) -> dict[str, Any]:
    """The month's total row (over every other cut) of a demand answer."""
    (row,) = [row for row in answer["totals"] if row == {**row, "month": month} and len(row) == 3]
    return row


def test_the_same_cell_shows_the_same_figure_through_every_table_route_and_format(
    base_url: str,  # noqa: F811
    keys: dict[str, str],  # noqa: F811
) -> None:
    """Consistent perturbation over the API: May 2024's demand, as a total of the quarter's
    table by sector, of the month's table by locality, and in CSV, is one figure; attainment
    by partner is the same for commissioners and stewards."""
    key = keys["commissioner"]
    by_sector = call(base_url, key, "GET", "/v1/questions/demand?by=sector&period=2024-Q2")
    by_locality = call(base_url, key, "GET", "/v1/questions/demand?by=locality&period=2024-05")
    first, second = _total_of(by_sector.json(), "2024-05"), _total_of(by_locality.json(), "2024-05")
    assert first == second
    assert first["count_contacts"]["value"] > 0
    csv = call(base_url, key, "GET", "/v1/questions/demand?by=need&period=2024-05&format=csv")
    lines = [line.split(",") for line in csv.text.strip().splitlines()]
    (total,) = [line for line in lines[1:] if line[:2] == ["2024-05", "all"]]
    shown = dict(zip(lines[0][2:], map(int, total[2:]), strict=True))
    assert shown == {name: first[name]["value"] for name in ("count_referrals", "count_contacts")}
    asked = "attainment?by=partner&period=2024"
    commissioner = call(base_url, key, "GET", f"/v1/questions/{asked}").json()
    steward = call(base_url, keys["steward"], "GET", f"/v1/partnerships/northbridge/{asked}")
    assert commissioner["rows"] == steward.json()["rows"]
    assert commissioner["rows"]
