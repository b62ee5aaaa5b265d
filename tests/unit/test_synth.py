"""The synthetic place generator: reproducible, loadable, realistic, and true to its extracts."""

import csv
import hashlib
import json
import random
import re
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connectors.mapping import (
    AGENCY_FIELDS,
    NUMBER_FIELDS,
    RECORD_FIELDS,
    UNIT_FIELDS,
    Mapping,
    load_mapping,
)
from connectors.pseudonym import is_valid_nhs_number, nhs_check_digit
from connectors.synth import SynthError, SynthSummary, synthesise
from connectors.synth.people import mistype, nhs_number
from schemas.base import format_rfc3339
from schemas.events import AGENCY_EVENT_TYPES, AgencyEventAdapter, agency_urn, event_id
from schemas.place import SECTORS, Place, load_place

PEOPLE = 1_500


@pytest.fixture(scope="module")
def place_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthSummary]:
    out = tmp_path_factory.mktemp("synth")
    return out, synthesise(out, people=PEOPLE, seed=7)


@pytest.fixture(scope="module")
def truth(place_dir: tuple[Path, SynthSummary]) -> list[dict[str, Any]]:
    out, _ = place_dir
    lines = (out / "truth" / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def place(place_dir: tuple[Path, SynthSummary]) -> Place:
    return load_place(place_dir[0] / "place.toml")


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_the_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    synthesise(tmp_path / "a", people=300, seed=3)
    synthesise(tmp_path / "b", people=300, seed=3)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_another_seed_gives_different_extracts(tmp_path: Path) -> None:
    synthesise(tmp_path / "a", people=300, seed=3)
    synthesise(tmp_path / "b", people=300, seed=4)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a["place.toml"] == b["place.toml"]
    assert a["truth/events.jsonl"] != b["truth/events.jsonl"]


def test_progress_reports_every_person_once_in_chunks(tmp_path: Path) -> None:
    chunks: list[int] = []
    summary = synthesise(tmp_path, people=2_345, seed=1, months=3, progress=chunks.append)
    assert sum(chunks) == 2_345 == summary.people
    assert all(n >= 1_000 for n in chunks[:-1])


def test_the_place_file_loads_and_covers_every_sector(place: Place) -> None:
    assert len(place.agencies) == 12
    assert {a.sector for a in place.agencies} == set(SECTORS)
    assert len(place.localities) == 24
    assert place.partnership is not None
    assert len(place.partnership.commitments) == len(place.partnership.partners)
    assert any(s.hsds_id for s in place.services)


def test_every_mapping_loads_against_the_place(
    place_dir: tuple[Path, SynthSummary], place: Place
) -> None:
    slugs = sorted(p.stem for p in (place_dir[0] / "mappings").glob("*.toml"))
    assert slugs == sorted(place.agency_slugs)
    for slug in slugs:
        assert load_mapping(place_dir[0] / "mappings" / f"{slug}.toml", place).agency == slug


def test_every_agency_and_every_event_type_occurs(
    place_dir: tuple[Path, SynthSummary], place: Place, truth: list[dict[str, Any]]
) -> None:
    _, summary = place_dir
    assert all(summary.rows[slug] > 0 for slug in place.agency_slugs)
    assert {e["type"] for e in truth} == set(AGENCY_EVENT_TYPES)


def test_truth_rows_equal_extract_rows_in_number_per_agency(
    place_dir: tuple[Path, SynthSummary], place: Place, truth: list[dict[str, Any]]
) -> None:
    out, summary = place_dir
    per_agency = Counter(e["agency"] for e in truth)
    assert per_agency == Counter(summary.rows)
    assert summary.total_rows == len(truth)
    for slug, rows in summary.rows.items():
        mapping = load_mapping(out / "mappings" / f"{slug}.toml", place)
        assert len(_read(out, mapping)) == rows


def test_demand_is_heavy_tailed(truth: list[dict[str, Any]]) -> None:
    per_person = sorted(Counter(e["person"] for e in truth).values(), reverse=True)
    top = per_person[: PEOPLE // 20]
    assert sum(top) > 0.3 * len(truth)
    with_few = PEOPLE - sum(1 for n in per_person if n > 3)
    assert with_few > 0.6 * PEOPLE
    agencies = defaultdict(set)
    for e in truth:
        agencies[e["person"]].add(e["agency"])
    assert 0.003 * PEOPLE < sum(1 for a in agencies.values() if len(a) >= 6) < 0.08 * PEOPLE


def test_corrections_refusals_moves_objections_redirections_and_units_occur(
    place_dir: tuple[Path, SynthSummary], truth: list[dict[str, Any]]
) -> None:
    _, summary = place_dir
    corrected = {(e["agency"], e["record_ref"]) for e in truth if e["record_version"] == 2}
    assert corrected
    assert all(
        any(e["record_version"] == 1 for e in _same(truth, key)) for key in list(corrected)[:20]
    )
    refused = [e for e in truth if e["refused"]]
    assert refused
    assert len(refused) == summary.refused_rows
    localities = defaultdict(set)
    for e in truth:
        localities[e["person"]].add(e["locality"])
    assert any(len(places) > 1 for places in localities.values())
    kinds = Counter(e["type"] for e in truth)
    assert kinds["hub.objection.recorded.v1"] > 0
    assert kinds["hub.supportunit.linked.v1"] > 0
    assert any(
        e["data"].get("reason") == "redirected" and e["data"]["redirect_agency"] for e in truth
    )


def test_every_referral_link_names_a_referral_made_to_that_agency_for_that_person(
    truth: list[dict[str, Any]],
) -> None:
    made = {
        (e["agency"], e["record_ref"]): e
        for e in truth
        if e["type"] == "hub.referral.made.v1" and e["record_version"] == 1
    }
    links = [e for e in truth if "referral" in e["data"]]
    assert links
    for e in links:
        referral = made[(e["data"]["referral"]["source"], e["data"]["referral"]["record_ref"])]
        assert referral["data"]["to_agency"] == e["agency"]
        assert referral["person"] == e["person"]


def test_some_people_are_passed_on_three_or_more_times(truth: list[dict[str, Any]]) -> None:
    declined = Counter(
        e["person"]
        for e in truth
        if e["type"] == "hub.referral.declined.v1" and e["record_version"] == 1
    )
    assert sum(1 for n in declined.values() if n >= 3) >= 3


def test_nothing_happens_to_a_person_after_they_die(truth: list[dict[str, Any]]) -> None:
    deaths = {
        e["person"]: e["time"]
        for e in truth
        if e["data"].get("reason") == "died" and e["record_version"] == 1
    }
    for e in truth:
        if e["person"] in deaths and e["record_version"] == 1:
            assert _instant(e["time"]) <= _instant(deaths[e["person"]])


def test_every_nhs_number_passes_its_check_digit_except_the_refused_ones(
    truth: list[dict[str, Any]],
) -> None:
    for e in truth:
        assert is_valid_nhs_number(e["nhs_number"]) == (e["refused"] is None)


def test_fake_nhs_numbers_are_valid_unique_and_start_with_nine() -> None:
    numbers = [nhs_number(i) for i in range(20_000)]
    assert len(set(numbers)) == len(numbers)
    assert all(n[0] == "9" and len(n) == 10 and is_valid_nhs_number(n) for n in numbers)
    assert nhs_check_digit(numbers[0][:9]) == int(numbers[0][9])


def test_a_mistyped_nhs_number_always_fails_its_check_digit() -> None:
    rng = random.Random(5)
    for i in range(2_000):
        assert not is_valid_nhs_number(mistype(nhs_number(i), rng))


def test_events_fall_within_the_period_in_working_hours(truth: list[dict[str, Any]]) -> None:
    first, end = datetime(2024, 1, 1), datetime(2026, 1, 1)
    for e in truth:
        local = datetime.fromisoformat(e["time"].replace("Z", "+00:00"))
        naive = local.astimezone(ZoneInfo("Europe/London")).replace(tzinfo=None)
        assert first <= naive < end
        assert naive.hour == 0 or 8 <= naive.hour < 20


def test_outcomes_are_reported_by_people_as_well_as_practitioners(
    truth: list[dict[str, Any]],
) -> None:
    by = Counter(e["data"]["reported_by"] for e in truth if e["type"] == "hub.outcome.recorded.v1")
    assert 0.2 < by["person"] / (by["person"] + by["practitioner"]) < 0.5


def test_a_reader_following_the_mappings_gets_back_exactly_the_truth(
    place_dir: tuple[Path, SynthSummary], place: Place, truth: list[dict[str, Any]]
) -> None:
    out, _ = place_dir
    expected = defaultdict(list)
    for e in truth:
        expected[e["agency"]].append(e)
    for slug in sorted(place.agency_slugs):
        mapping = load_mapping(out / "mappings" / f"{slug}.toml", place)
        got = [_as_event(mapping, row) for row in _read(out, mapping)]
        want = [
            {k: v for k, v in e.items() if k not in ("person", "agency")} for e in expected[slug]
        ]
        assert got == want, slug


def test_every_truth_line_makes_a_valid_hub_event(truth: list[dict[str, Any]]) -> None:
    def pseudonym(*parts: object) -> str:
        return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()

    for e in truth:
        data = dict(e["data"])
        for name in ("to_agency", "redirect_agency"):
            if name in data:
                data[name] = agency_urn(data[name])
        if "referral" in data:
            link = data["referral"]
            data["referral"] = {
                "source": agency_urn(link["source"]),
                "recordref": pseudonym(link["source"], link["record_ref"]),
            }
        if "unit" in data:
            data["unit"] = pseudonym("unit", data["unit"])
        recordref = pseudonym(e["agency"], e["record_ref"])
        AgencyEventAdapter.validate_python(
            {
                "specversion": "1.0",
                "id": event_id(recordref, e["record_version"]),
                "source": agency_urn(e["agency"]),
                "type": e["type"],
                "time": e["time"],
                "subject": pseudonym(e["nhs_number"]),
                "locality": e["locality"],
                "keyversion": 1,
                "recordref": recordref,
                "recordversion": e["record_version"],
                "data": data,
            }
        )


def test_extracts_keep_names_and_addresses_out_of_the_mapped_columns(
    place_dir: tuple[Path, SynthSummary], place: Place
) -> None:
    out, _ = place_dir
    for slug in sorted(place.agency_slugs):
        mapping = load_mapping(out / "mappings" / f"{slug}.toml", place)
        with open(out / "extracts" / f"{slug}.csv", encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f, delimiter=mapping.delimiter))
        unread = set(header) - mapping.used_columns()
        assert len(unread) >= 3  # name, date of birth, address (and notes) stay at the agency


def test_extracts_are_messy_in_the_ways_real_ones_are(place_dir: tuple[Path, SynthSummary]) -> None:
    out, _ = place_dir
    raw = {p.stem: p.read_bytes() for p in (out / "extracts").glob("*.csv")}
    assert any(b.startswith(b"\xef\xbb\xbf") for b in raw.values())
    assert any(not b.startswith(b"\xef\xbb\xbf") for b in raw.values())
    assert any(b"\r\n" in b.split(b"\n", 1)[0] + b"\n" for b in raw.values())
    assert any(b"\n\n" in b or b"\r\n\r\n" in b for b in raw.values())
    text = b"".join(raw.values()).decode("utf-8")
    assert re.search(r"[\u0600-\u06ff]", text)
    assert re.search(r"[\u4e00-\u9fff]", text)
    assert re.search(r"\d{3} \d{3} \d{4}", text)
    assert re.search(r"\d{3}-\d{3}-\d{4}", text)


def _same(truth: list[dict[str, Any]], key: tuple[str, str]) -> list[dict[str, Any]]:
    return [e for e in truth if (e["agency"], e["record_ref"]) == key]


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _read(out: Path, mapping: Mapping) -> list[dict[str, str]]:
    with open(out / "extracts" / f"{mapping.agency}.csv", encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f, delimiter=mapping.delimiter))


def _as_event(mapping: Mapping, row: dict[str, str]) -> dict[str, Any]:
    """What a correct connector makes of one row (before pseudonymising)."""
    columns, codes = mapping.columns, mapping.codes
    type_name = mapping.event_types[row[columns.event_type]]
    data: dict[str, Any] = {}
    for name, column in mapping.fields.get(type_name, {}).items():
        raw = row[column]
        if raw == "":
            continue
        if name in NUMBER_FIELDS:
            value: Any = float(raw)
        elif name in RECORD_FIELDS or name in UNIT_FIELDS:
            value = raw
        else:
            value = codes.get("agency" if name in AGENCY_FIELDS else name, {}).get(raw, raw)
        if name.startswith("referral."):
            key = "record_ref" if name == "referral.recordref" else "source"
            data.setdefault("referral", {})[key] = value
        else:
            data[name] = value
    data.update(mapping.constants.get(type_name, {}))
    identifier = re.sub(r"[\s-]", "", row[columns.identifier])
    assert columns.record_version is not None
    return {
        "record_ref": row[columns.record_ref],
        "record_version": int(row[columns.record_version]),
        "type": type_name,
        "time": _time(mapping, row[columns.time]),
        "nhs_number": identifier,
        "locality": codes["locality"][row[columns.locality]],
        "data": data,
        "refused": None if is_valid_nhs_number(identifier) else "nhs-check-digit",
    }


def _time(mapping: Mapping, text: str) -> str:
    for fmt in mapping.time_formats:
        try:
            local = datetime.fromisoformat(text) if fmt == "iso" else datetime.strptime(text, fmt)
        except ValueError:
            continue
        return format_rfc3339(local.replace(tzinfo=ZoneInfo("Europe/London")))
    raise AssertionError(f"no time format of {mapping.agency} reads {text!r}")


def test_a_bad_start_month_is_refused_with_the_form_it_needs(tmp_path: Path) -> None:
    with pytest.raises(SynthError, match="YYYY-MM"):
        synthesise(tmp_path, people=10, start="2024-13")
