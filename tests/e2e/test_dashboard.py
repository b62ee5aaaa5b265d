"""The dashboard in a real headless Chromium on a served demo place: each role signs in with its
key and sees its pages drawn from the controlled answers; nothing reaches past 127.0.0.1."""

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Response

from hub.access.keys import KeyStore
from hub.bootstrap import open_hub
from hub.demo.run import quiet, run_demo
from hub.settings import Settings
from tests.e2e.conftest import Browser, screenshot_path
from tests.integration.served import serving

pytestmark = pytest.mark.slow

# Small, yet big enough that every chart has some figure above the suppression threshold (with
# 400 people nearly every monthly cell of the demand charts is suppressed, as it should be).
PEOPLE = 2000
CHARTS = [
    "demand-locality",
    "demand-agency",
    "demand-need",
    "repeat",
    "waits",
    "many-agencies",
    "bounces",
    "journeys",
]
SUPPRESSED = {"value": None, "suppressed": True}
READY = "#charts[data-state=ready]"


@pytest.fixture(scope="module")
def place_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dashboard")
    agencies = tmp_path_factory.mktemp("demo-agencies")
    with open_hub(Settings(data_dir=folder)) as hub:
        run_demo(hub, agencies, people=PEOPLE, seed=21, stage=quiet)
    return folder


@pytest.fixture(scope="module")
def keys(place_dir: Path) -> dict[str, str]:
    store = KeyStore(place_dir / "access.sqlite")
    made = {
        "commissioner": store.create("commissioner"),
        "steward": store.create("steward"),
        "auditor": store.create("auditor"),
        "agency": store.create("agency", "police-north"),
    }
    store.close()
    return {role: key.token for role, key in made.items()}


@pytest.fixture(scope="module")
def log_records() -> Iterator[list[logging.LogRecord]]:
    """Every log record of the module's run (to show that none names a key)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append  # type: ignore[method-assign]
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture(scope="module")
def base_url(
    place_dir: Path, keys: dict[str, str], log_records: list[logging.LogRecord]
) -> Iterator[str]:
    with serving(Settings(data_dir=place_dir)) as url:
        steward = {"Authorization": f"Bearer {keys['steward']}"}
        # A board's year so far: one target revised, one review recorded, through the API.
        revised = httpx.post(
            f"{url}/v1/partnerships/northbridge/targets",
            json={
                "outcome": "tenancy-sustained",
                "target_percent": 65,
                "reason": "Arrears rose with energy prices: the board agreed a year to recover",
                "at": "2025-01-15T10:00:00Z",
            },
            headers=steward,
        )
        reviewed = httpx.post(
            f"{url}/v1/partnerships/northbridge/reviews",
            json={
                "outcome": "wellbeing-improved",
                "decision": "escalate",
                "rationale": "Below target where no peer group meets: fund two more groups",
                "at": "2025-02-03T14:00:00Z",
            },
            headers=steward,
        )
        assert (revised.status_code, reviewed.status_code) == (201, 201), reviewed.text
        yield url


class Recorder:
    """Every response a page received, with its JSON body where it had one."""

    def __init__(self, page: Page) -> None:
        self.bodies: list[tuple[str, Any]] = []
        self.console: list[str] = []
        page.on("response", self._response)
        page.on("console", lambda message: self.console.append(message.text))

    def _response(self, response: Response) -> None:
        if "json" in response.headers.get("content-type", ""):
            self.bodies.append((response.url, json.loads(response.body())))


def sign_in(
    browser: Browser, base_url: str, key: str, shot: str | None = None
) -> tuple[Page, Recorder]:
    """A new tab, signed in at /dashboard by keyboard alone: Tab to the labelled field, type the
    key, Enter (with `shot`, a screenshot of the sign-in page just before)."""
    page = browser.context.new_page()
    recorder = Recorder(page)
    page.goto(f"{base_url}/dashboard")
    field = page.get_by_label("API key")
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "key":
            break
    assert page.evaluate("document.activeElement.id") == "key", "the key field is not reachable"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in {"none", ""}, "the focused field shows no focus ring"
    field.type(key)
    if shot:
        page.screenshot(path=screenshot_path(shot, "the sign-in page, a key typed (masked)"))
    page.keyboard.press("Enter")
    return page, recorder


def chart_data(page: Page, chart: str) -> list[dict[str, Any]]:
    """The traces plotly drew in a chart (its graph div's `data`)."""
    data: list[dict[str, Any]] = page.evaluate(
        f"JSON.parse(JSON.stringify(document.getElementById('chart-{chart}').data || []))"
    )
    return data


def shown_values(trace: dict[str, Any]) -> list[Any]:
    if trace["type"] == "sankey":
        values: list[Any] = trace["link"]["value"]
    elif trace["type"] == "heatmap":
        values = [v for row in trace["z"] for v in row]
    else:
        values = trace["x"] if trace.get("orientation") == "h" else trace["y"]
    return [v for v in values if v is not None]


def figures(page: Page) -> dict[str, list[Any]]:
    return {
        chart: [(t.get("name"), shown_values(t)) for t in chart_data(page, chart)]
        for chart in CHARTS
    }


@pytest.fixture(scope="module")
def commissioner(
    browser: Browser, base_url: str, keys: dict[str, str]
) -> Iterator[tuple[Page, Recorder]]:
    page, recorder = sign_in(browser, base_url, keys["commissioner"], shot="sign-in")
    page.wait_for_url("**/dashboard/demand")
    page.wait_for_selector(READY, timeout=60_000)
    yield page, recorder
    page.close()


def test_a_commissioner_signs_in_and_every_chart_renders_with_its_table(
    commissioner: tuple[Page, Recorder],
) -> None:
    page, _ = commissioner
    assert page.evaluate("document.documentElement.lang") == "en-GB"
    assert page.locator("h1").count() == 1
    for chart in CHARTS:
        card = page.locator(f"#card-{chart}")
        assert card.get_attribute("data-state") == "ready", card.inner_text()
        traces = chart_data(page, chart)
        drawn = [t for t in traces if t.get("meta") != "suppressed"]
        assert drawn, f"{chart}: no trace drawn"
        assert any(shown_values(t) for t in drawn), f"{chart}: every trace is empty"
        assert card.locator("svg.main-svg").count() > 0, f"{chart}: plotly drew no SVG"
        table = card.locator("table")
        assert table.locator("caption").inner_text().strip()
        assert table.locator("thead th[scope=col]").count() >= 2
        assert table.locator("tbody tr").count() > 0
        assert card.get_by_role("button", name="Download CSV").count() == 1
    page.screenshot(
        path=screenshot_path("demand", "commissioner: demand page, every chart"), full_page=True
    )


def test_a_suppressed_cell_is_marked_and_every_payload_is_exactly_null_and_true(
    commissioner: tuple[Page, Recorder],
) -> None:
    page, recorder = commissioner
    cells = [(url, cell) for url, body in recorder.bodies for cell in _cells(body)]
    assert any("/v1/questions/" in url for url, _ in cells), "the page received no answers"
    suppressed = [cell for _, cell in cells if cell.get("suppressed") is True]
    assert all(cell == SUPPRESSED for cell in suppressed)
    assert all(isinstance(cell["value"], int) for _, cell in cells if not cell["suppressed"])
    # perturbation: no count is suppressed any more, only a rate of a count shown as 0 or a
    # median of a small group; wherever one is, the table says "suppressed" and the chart
    # marks it (how many there are awaits the perturbation work, so only that is asserted).
    in_tables = page.locator("td.suppressed")
    assert set(in_tables.all_inner_texts()) <= {"suppressed"}
    assert in_tables.count() == 0 or suppressed
    marks = [t for c in CHARTS for t in chart_data(page, c) if t.get("meta") == "suppressed"]
    assert all(t["x"] for t in marks)
    assert page.locator("#card-demand-locality .suppressed-note").inner_text()


def test_the_disclosure_note_gives_the_published_noise_and_error_bound(
    commissioner: tuple[Page, Recorder], base_url: str, keys: dict[str, str]
) -> None:
    page, recorder = commissioner
    rules = httpx.get(
        f"{base_url}/v1/disclosure", headers={"Authorization": f"Bearer {keys['commissioner']}"}
    ).json()
    assert [body for url, body in recorder.bodies if url.endswith("/v1/disclosure")] == [rules]
    rule = page.locator("#rule")
    assert rule.is_visible()
    assert page.locator("#rule-max-noise").inner_text() == str(rules["max_noise"])
    assert page.locator("#rule-max-error").inner_text() == str(rules["max_error"])
    text = rule.inner_text()
    assert f"perturbed by at most {rules['max_noise']}" in text
    assert f"nearest {rules['rounding_base']}" in text
    assert f"off by up to {rules['max_error']}" in text
    assert f"from 1 to {rules['threshold']} never shows" in text


def test_the_period_picker_offers_the_grid_and_a_choice_asks_it_by_label(
    commissioner: tuple[Page, Recorder], base_url: str, keys: dict[str, str]
) -> None:
    page, recorder = commissioner
    rules = httpx.get(
        f"{base_url}/v1/disclosure", headers={"Authorization": f"Bearer {keys['commissioner']}"}
    ).json()
    choices = rules["periods"]["choices"]
    picker = page.locator("#f-period")
    assert page.get_by_label("Period", exact=True).count() == 1
    assert page.locator("#f-from, #f-to").count() == 0  # no month spans any more
    values = picker.locator("option").evaluate_all("os => os.map(o => o.value)")
    assert values == ["", *(c["label"] for c in choices)]
    assert picker.locator("option").first.inner_text() == "Whole record"
    groups = picker.locator("optgroup").evaluate_all(
        "gs => gs.map(g => [g.label, [...g.querySelectorAll('option')].map(o => o.value)])"
    )
    assert [label for label, _ in groups] == [
        "Months",
        "Quarters",
        "Financial years (April to March)",
        "Calendar years",
    ]
    by_kind = {c["kind"]: [] for c in choices}
    for c in choices:
        by_kind[c["kind"]].append(c["label"])
    assert [labels for _, labels in groups] == list(by_kind.values())
    quarter = by_kind["quarter"][-1]
    asked_before = len(recorder.bodies)
    picker.select_option(quarter)
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_function(
        "q => document.getElementById('status').textContent.includes(q)", arg=quarter
    )
    page.wait_for_selector(READY)
    asked = [(url, body) for url, body in recorder.bodies[asked_before:] if "/v1/questions/" in url]
    assert len(asked) == len(CHARTS)
    for url, body in asked:
        assert f"period={quarter}" in url
        assert "from=" not in url
        assert "to=" not in url
        assert body["period"]["label"] == quarter
    assert f"period={quarter}" in page.url
    caption = page.locator("#card-demand-locality table caption").inner_text()
    assert quarter in caption
    page.screenshot(
        path=screenshot_path("demand-quarter", f"commissioner: demand, period {quarter}"),
        full_page=True,
    )
    picker.select_option("")  # back to the whole record for the tests after
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_function(
        "() => document.getElementById('status').textContent.includes('the whole record')"
    )
    page.wait_for_selector(READY)


def _cells(body: Any) -> Iterator[dict[str, Any]]:
    if isinstance(body, dict):
        if "suppressed" in body:
            yield body
        else:
            for value in body.values():
                yield from _cells(value)
    elif isinstance(body, list):
        for value in body:
            yield from _cells(value)


def test_a_filter_changes_the_figures_of_every_chart_it_applies_to(
    commissioner: tuple[Page, Recorder],
) -> None:
    page, _ = commissioner
    before = figures(page)
    # The locality with the most figures shown (at this size many are mostly suppressed).
    shown = {name: sum(map(bool, values)) for name, values in before["demand-locality"]}
    localities = page.locator("#f-locality option").evaluate_all("os => os.map(o => o.value)")
    locality = max(localities[1:], key=lambda name: shown.get(name, 0))
    page.get_by_label("Locality", exact=True).select_option(locality)
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_function(
        "l => document.getElementById('status').textContent.includes('locality ' + l)", arg=locality
    )
    page.wait_for_selector(READY)
    after = figures(page)
    for chart in ["demand-locality", "demand-agency", "demand-need", "repeat", "many-agencies"]:
        assert after[chart] != before[chart], f"{chart}: the locality filter changed nothing"
    names = {name for name, _ in after["demand-locality"]} - {"× suppressed (not shown)"}
    assert names <= {locality}
    # Waits and bounces cannot be cut by locality: they say so, and keep their figures.
    for chart in ["waits", "bounces"]:
        note = page.locator(f"#card-{chart} .not-applied").inner_text()
        assert f"locality ({locality})" in note
        assert after[chart] == before[chart]
    table = page.locator("#card-demand-locality table")
    assert set(table.locator("tbody td.dim").all_inner_texts()) <= {locality}
    with page.expect_download() as download:
        page.locator("#card-demand-locality").get_by_role("button", name="Download CSV").click()
    csv = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert csv[0] == "Month,Locality,Referrals made,Contacts recorded"
    assert len(csv) == 1 + table.locator("tbody tr").count()
    page.screenshot(
        path=screenshot_path("demand-filtered", f"commissioner: demand, locality {locality}"),
        full_page=True,
    )


def test_an_agency_key_has_no_pages_and_cannot_open_the_commissioner_pages(
    browser: Browser, base_url: str, keys: dict[str, str]
) -> None:
    page, recorder = sign_in(browser, base_url, keys["agency"])
    page.wait_for_selector("#no-pages")
    assert "has no dashboard pages" in page.locator("#no-pages").inner_text()
    assert page.locator("#nav a", has_text="Demand").count() == 0
    page.goto(f"{base_url}/dashboard/demand")
    refusal = page.locator("#refusal")
    refusal.wait_for()
    assert "403" in refusal.inner_text()
    assert "an agency key may not use this route" in refusal.inner_text()
    assert page.locator("#page").is_hidden()
    assert not [url for url, _ in recorder.bodies if "/v1/questions/" in url]
    page.screenshot(
        path=screenshot_path("agency-refused", "agency key: demand page refused (403)"),
        full_page=True,
    )
    page.close()


def test_an_unknown_key_is_refused_in_a_sentence_and_not_kept(
    browser: Browser, base_url: str
) -> None:
    page, _ = sign_in(browser, base_url, "hub.00000000.not-a-key-at-all")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "did not accept this key" in alert.inner_text()
    assert page.evaluate("sessionStorage.length") == 0
    page.close()


def test_a_steward_sees_targets_attainment_commitments_and_the_reviews(
    browser: Browser, base_url: str, keys: dict[str, str]
) -> None:
    page, recorder = sign_in(browser, base_url, keys["steward"])
    page.wait_for_url("**/dashboard/accountability")
    page.wait_for_selector("#content[data-state=ready]", timeout=60_000)
    outcomes = page.locator("section.card[id^=card-outcome-]")
    assert outcomes.count() == 5
    for chart_id in outcomes.evaluate_all("cards => cards.map(c => c.id.slice(5))"):
        traces = {t["name"]: t for t in chart_data(page, chart_id)}
        assert shown_values(traces["Target %"]), f"{chart_id}: no target drawn"
        assert "Attained %" in traces
    attained = [
        v
        for c in outcomes.evaluate_all("cards => cards.map(c => c.id.slice(5))")
        for t in chart_data(page, c)
        if t["name"] == "Attained %"
        for v in shown_values(t)
    ]
    assert attained, "no outcome's attainment is shown"
    commitments = {t["name"]: t for t in chart_data(page, "commitments")}
    assert shown_values(commitments["Own target %"])
    assert len(commitments["Attained %"]["y"]) == 8
    assert "fund two more groups" in page.locator("#reviews table").inner_text()
    assert "energy prices" in page.locator("#revisions table").inner_text()
    cells = [c for url, body in recorder.bodies if "attainment" in url for c in _cells(body)]
    assert cells
    assert all(c == SUPPRESSED for c in cells if c["suppressed"])
    page.screenshot(
        path=screenshot_path("accountability", "steward: accountability page"), full_page=True
    )
    page.close()


def test_an_auditor_sees_the_latest_checkpoint_and_runs_a_verification(
    browser: Browser, base_url: str, keys: dict[str, str]
) -> None:
    page, _ = sign_in(browser, base_url, keys["auditor"])
    page.wait_for_url("**/dashboard/audit")
    page.wait_for_selector("#main[data-state=ready]")
    status = httpx.get(
        f"{base_url}/v1/audit/status", headers={"Authorization": f"Bearer {keys['auditor']}"}
    ).json()
    assert page.locator("#root").inner_text() == status["checkpoint"]["root"]
    assert (
        f"{status['checkpoint']['treeSize']:,} events" in page.locator("#checkpoint").inner_text()
    )
    assert status["origin"] in page.locator("pre.note").inner_text()
    verify = page.get_by_role("button", name="Verify now")
    verify.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.getElementById('status').textContent.startsWith('Verified now')"
    )
    assert "Intact" in page.locator("#verdict").inner_text()
    page.screenshot(
        path=screenshot_path("audit", "auditor: audit status after Verify now"), full_page=True
    )
    page.close()


def test_the_pages_load_and_work_with_the_network_blocked_but_for_127_0_0_1(
    browser: Browser,
    base_url: str,
    keys: dict[str, str],
    log_records: list[logging.LogRecord],
) -> None:
    page, recorder = sign_in(browser, base_url, keys["commissioner"])
    page.wait_for_selector(READY, timeout=60_000)
    assert browser.local, "no request was routed"
    assert browser.outside == [], f"the pages tried to reach outside the hub: {browser.outside}"
    assert any("/dashboard/vendor/plotly-" in url for url in browser.local)
    assert not [m for m in recorder.console if "Content Security Policy" in m]
    page.close()
    # Nothing logged names a key (the served hub logs in this process).
    logged = "\n".join(record.getMessage() for record in log_records)
    for key in keys.values():
        assert key.split(".")[-1] not in logged
        assert key not in logged


def test_whoami_tells_each_key_its_role_and_pages(base_url: str, keys: dict[str, str]) -> None:
    def who(key: str | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.get(f"{base_url}/v1/whoami", headers=headers)

    answers = {role: who(key).json() for role, key in keys.items()}
    assert {role: a["pages"] for role, a in answers.items()} == {
        "commissioner": ["demand"],
        "steward": ["accountability"],
        "auditor": ["audit"],
        "agency": [],
    }
    assert answers["agency"]["agency"] == "police-north"
    assert answers["steward"]["partnership"] == "northbridge"
    assert answers["commissioner"]["disclosure"] == {
        "threshold": 7,
        "rounding_base": 5,
        "min_group_for_percentiles": 8,
        "max_noise": 8,
        "max_error": 10,
    }
    assert answers["auditor"]["disclosure"] is None
    assert {a["place"] for a in answers.values()} == {"Northbridge"}
    refused = who(None)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    assert who("hub.00000000.not-a-key").status_code == 401
