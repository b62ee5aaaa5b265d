"""The HTTP API on a real uvicorn: who may use which route, what agencies' posts become, and
that nothing refused is ever echoed."""

import base64
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.access.keys import KeyStore
from hub.api.app import create_app
from hub.audit.checkpoint_file import CheckpointFile
from hub.audit.signed_note import verify_note
from hub.bootstrap import open_hub
from hub.demo.run import quiet, run_demo
from hub.settings import Settings
from hub.store.merkle import verify_consistency, verify_inclusion
from tests.conftest import SHARED
from tests.integration.served import serving
from tests.unit.test_events import EXAMPLES, _event

STRUCTURED = {"Content-Type": "application/cloudevents+json"}
BATCH = {"Content-Type": "application/cloudevents-batch+json"}
NHS_NUMBER = "943 476 5919"


def referral(n: int, source: str = "urn:agency:police-north") -> dict[str, Any]:
    record = f"{n:064x}"
    return _event(
        "hub.referral.made.v1",
        EXAMPLES["hub.referral.made.v1"],
        id=f"{record}-v1",
        recordref=record,
        source=source,
    )


OUTCOME = {
    "code": "matrix-outcome",
    "name": "An outcome for the role matrix",
    "cohort": {"events": ["referral"]},
    "attainment": {"instrument": "wellbeing", "min_value": 1, "within_days": 90},
    "target_percent": 50,
}
# Every route that needs a key, with a request that the allowed role may make, and that role
# ("any": every role's key).
ROUTES: list[tuple[str, str, dict[str, Any], str]] = [
    ("POST", "/v1/events", {"content": json.dumps(referral(1)), "headers": STRUCTURED}, "agency"),
    ("GET", "/v1/agency/submissions", {}, "agency"),
    (
        "POST",
        "/v1/agency/records/{recordref}/erasure",
        {"path": f"/v1/agency/records/{'0' * 64}/erasure"},  # a record no agency has: 404
        "agency",
    ),
    ("GET", "/v1/questions", {}, "commissioner"),
    ("GET", "/v1/questions/{slug}", {"path": "/v1/questions/demand"}, "commissioner"),
    ("GET", "/v1/disclosure", {}, "any"),
    ("POST", "/v1/partnerships", {"json": {"slug": "m", "name": "M", "place": "m"}}, "steward"),
    ("GET", "/v1/partnerships/{slug}", {"path": "/v1/partnerships/northbridge"}, "steward"),
    (
        "POST",
        "/v1/partnerships/{slug}/partners",
        {"path": "/v1/partnerships/m/partners", "json": {"partner": "police-north"}},
        "steward",
    ),
    (
        "POST",
        "/v1/partnerships/{slug}/partners/{partner}/leave",
        {"path": "/v1/partnerships/m/partners/police-north/leave", "json": {"reason": "moved"}},
        "steward",
    ),
    (
        "POST",
        "/v1/partnerships/{slug}/outcomes",
        {"path": "/v1/partnerships/m/outcomes", "json": {"outcome": OUTCOME}},
        "steward",
    ),
    (
        "POST",
        "/v1/partnerships/{slug}/commitments",
        {
            "path": "/v1/partnerships/m/commitments",
            "json": {
                "commitment": {
                    "partner": "police-north",
                    "outcome": "matrix-outcome",
                    "contribution": "referrals",
                    "measure": "referrals made",
                    "target": 40,
                }
            },
        },
        "steward",
    ),
    (
        "POST",
        "/v1/partnerships/{slug}/targets",
        {
            "path": "/v1/partnerships/m/targets",
            "json": {"outcome": "matrix-outcome", "target_percent": 55, "reason": "review"},
        },
        "steward",
    ),
    (
        "POST",
        "/v1/partnerships/{slug}/reviews",
        {
            "path": "/v1/partnerships/m/reviews",
            "json": {"outcome": "matrix-outcome", "decision": "keep", "rationale": "on track"},
        },
        "steward",
    ),
    (
        "GET",
        "/v1/partnerships/{slug}/attainment",
        {"path": "/v1/partnerships/northbridge/attainment"},
        "steward",
    ),
    ("GET", "/v1/audit/events", {}, "auditor"),
    ("GET", "/v1/audit/access", {}, "auditor"),
    ("GET", "/v1/audit/key", {}, "auditor"),
    ("GET", "/v1/audit/checkpoints", {}, "auditor"),
    ("POST", "/v1/audit/checkpoints", {}, "auditor"),
    ("GET", "/v1/audit/verify", {}, "auditor"),
    ("GET", "/v1/audit/status", {}, "auditor"),
    ("GET", "/v1/audit/proofs/inclusion", {"path": "/v1/audit/proofs/inclusion?leaf=3"}, "auditor"),
    (
        "GET",
        "/v1/audit/proofs/consistency",
        {"path": "/v1/audit/proofs/consistency?size1=3"},
        "auditor",
    ),
    (
        "GET",
        "/v1/audit/replay",
        {"path": "/v1/audit/replay?position=50&question=demand"},
        "auditor",
    ),
    (
        "GET",
        "/v1/audit/trace/{slug}",
        {"path": "/v1/audit/trace/demand?cell=month=2024-03"},
        "auditor",
    ),
]
CALLERS = ["own agency", "other agency", "commissioner", "steward", "auditor", "none", "revoked"]


@pytest.fixture(scope="module")
def place_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("served")
    agencies = tmp_path_factory.mktemp("demo-agencies")
    with open_hub(Settings(data_dir=folder)) as hub:
        run_demo(hub, agencies, people=300, seed=21, stage=quiet)
    return folder


@pytest.fixture(scope="module")
def keys(place_dir: Path) -> dict[str, str]:
    store = KeyStore(place_dir / "access.sqlite")
    made = {
        "own agency": store.create("agency", "police-north"),
        "other agency": store.create("agency", "nhs-gp"),
        "commissioner": store.create("commissioner"),
        "steward": store.create("steward"),
        "auditor": store.create("auditor"),
        "revoked": store.create("commissioner"),
    }
    store.revoke(made["revoked"].principal.key_id)
    store.close()
    return {name: key.token for name, key in made.items()}


@pytest.fixture(scope="module")
def base_url(place_dir: Path) -> Iterator[str]:
    with serving(Settings(data_dir=place_dir)) as url:
        yield url


def call(base_url: str, key: str | None, method: str, path: str, **request: Any) -> httpx.Response:
    headers = dict(request.pop("headers", {}))
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return httpx.request(method, base_url + path, headers=headers, **request)


def test_the_matrix_covers_every_route_that_needs_a_key() -> None:
    paths = create_app(Settings(data_dir=Path("unused"))).openapi()["paths"]
    needing = {
        (method.upper(), path)
        for path, operations in paths.items()
        if path != "/health"
        for method in operations
    }
    assert needing == {(method, path) for method, path, _, _ in ROUTES}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "path", "request_", "role"), ROUTES)
def test_only_the_routes_role_may_use_it(
    base_url: str,
    keys: dict[str, str],
    caller: str,
    method: str,
    path: str,
    request_: dict[str, Any],
    role: str,
) -> None:
    request = dict(request_)
    response = call(base_url, keys.get(caller), method, request.pop("path", path), **request)
    if caller in {"none", "revoked"}:
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
    elif role == "any" or caller.removeprefix("own ").removeprefix("other ") == role:
        assert response.status_code not in {401, 403}, response.text
    else:
        assert response.status_code == 403, response.text
    assert set(response.json()) >= {"field", "reason"} if response.status_code >= 400 else True


def test_public_routes_answer_without_a_key_and_the_docs_load_nothing_from_outside(
    base_url: str,
) -> None:
    assert httpx.get(base_url + "/health").json() == {"status": "ok"}
    assert "/v1/events" in httpx.get(base_url + "/openapi.json").json()["paths"]
    page = httpx.get(base_url + "/docs").text
    assert "https://" not in page
    assert "http://" not in page


def test_an_agency_publishes_only_as_itself(base_url: str, keys: dict[str, str]) -> None:
    response = call(
        base_url,
        keys["other agency"],
        "POST",
        "/v1/events",
        content=json.dumps([referral(7), referral(8, "urn:agency:nhs-gp")]),
        headers=BATCH,
    )
    assert response.status_code == 200
    first, second = response.json()["events"]
    assert (first["status"], first["field"]) == ("rejected", "source")
    assert "forbidden" in first["reason"]
    assert second["status"] == "accepted"


def test_a_batch_is_answered_event_by_event_and_sending_it_again_doubles_nothing(
    base_url: str, keys: dict[str, str]
) -> None:
    batch = [referral(100 + n) for n in range(5)] + [{"specversion": "1.0"}]
    post = {"content": json.dumps(batch), "headers": BATCH}
    first = call(base_url, keys["own agency"], "POST", "/v1/events", **post).json()
    again = call(base_url, keys["own agency"], "POST", "/v1/events", **post).json()
    assert (first["accepted"], first["duplicate"], first["rejected"]) == (5, 0, 1)
    assert (again["accepted"], again["duplicate"], again["rejected"]) == (0, 5, 1)
    assert first["events"][5]["reason"].startswith("malformed CloudEvent")
    counts = call(base_url, keys["own agency"], "GET", "/v1/agency/submissions").json()
    assert counts["duplicate"] >= 5


def test_binary_mode_takes_the_attributes_from_ce_headers(
    base_url: str, keys: dict[str, str]
) -> None:
    event = referral(300)
    headers = {f"ce-{k}": str(v) for k, v in event.items() if k != "data"}
    headers["Content-Type"] = "application/json"
    response = call(
        base_url,
        keys["own agency"],
        "POST",
        "/v1/events",
        content=json.dumps(event["data"]),
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1


def test_wrong_content_types_and_oversized_requests_are_refused(
    base_url: str, keys: dict[str, str]
) -> None:
    key = keys["own agency"]
    plain = call(
        base_url, key, "POST", "/v1/events", content=b"x", headers={"Content-Type": "text/plain"}
    )
    assert plain.status_code == 415
    big = [referral(n) for n in range(1001)]
    too_many = call(base_url, key, "POST", "/v1/events", content=json.dumps(big), headers=BATCH)
    assert too_many.status_code == 413
    huge = b"[" + b" " * (6 * 1024 * 1024) + b"]"
    too_big = call(base_url, key, "POST", "/v1/events", content=huge, headers=BATCH)
    assert too_big.status_code == 413
    not_json = call(base_url, key, "POST", "/v1/events", content=b"{", headers=STRUCTURED)
    assert (not_json.status_code, not_json.json()["field"]) == (400, "body")


def test_a_cut_a_question_does_not_allow_is_a_422_naming_the_allowed_ones_not_it(
    base_url: str, keys: dict[str, str]
) -> None:
    response = call(base_url, keys["commissioner"], "GET", "/v1/questions/waits?by=person")
    assert (response.status_code, response.json()["field"]) == (422, "by")
    assert "the allowed cuts are" in response.json()["reason"]
    assert "person" not in response.json()["reason"]  # a refused value is never echoed


def test_a_period_asked_by_halves_is_a_422_naming_the_missing_month(
    base_url: str, keys: dict[str, str]
) -> None:
    for key, path in (
        ("commissioner", "/v1/questions/demand?from=2024-01"),
        ("steward", "/v1/partnerships/northbridge/attainment?from=2024-04"),
        ("auditor", "/v1/audit/replay?position=1&question=demand&from=2024-01"),
        ("auditor", "/v1/audit/trace/demand?cell=month=2024-01&from=2024-01"),
    ):
        response = call(base_url, keys[key], "GET", path)
        assert (response.status_code, response.json()["field"]) == (422, "to"), path


def test_answers_are_controlled_carry_their_position_and_are_on_the_record(
    base_url: str, keys: dict[str, str], place_dir: Path
) -> None:
    path = "/v1/questions/demand?by=locality&period=2024-Q2"
    answer = call(base_url, keys["commissioner"], "GET", path).json()
    assert answer["period"] == {
        "label": "2024-Q2",
        "kind": "quarter",
        "start": "2024-04",
        "end": "2024-06",
    }
    assert {row["month"] for row in answer["rows"]} <= {"2024-04", "2024-05", "2024-06"}
    assert answer["position"] > 0
    vkey = call(base_url, keys["auditor"], "GET", "/v1/audit/key").json()["verifier_key"]
    latest = CheckpointFile(place_dir / "audit" / "checkpoints.txt").latest()
    assert latest is not None
    assert answer["treeSize"] == verify_note(latest, vkey).size > 0
    cells = [c for row in answer["rows"] for c in row.values() if isinstance(c, dict)]
    assert cells
    # perturbation: a demand count is no longer suppressed; a suppressed cell, where there is
    # one, holds no value at all, and every shown count is a multiple of the rounding base.
    assert all(c == {"value": None, "suppressed": True} for c in cells if c["suppressed"])
    assert all(c["suppressed"] or c["value"] % 5 == 0 for c in cells)
    csv = call(base_url, keys["commissioner"], "GET", path + "&format=csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.headers["hub-period"] == "2024-Q2"
    log = call(base_url, keys["auditor"], "GET", "/v1/audit/access?limit=10000").json()
    reads = [e for e in log["entries"] if e["question"] == "demand" and e["cuts"] == "locality"]
    assert reads
    assert reads[-1]["position"] == answer["position"]
    assert "value" not in json.dumps(log)  # never the figures


def test_an_nhs_number_posted_is_refused_and_never_echoed_or_logged(
    base_url: str, keys: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    event = referral(500)
    event["data"] = dict(event["data"], need=NHS_NUMBER)
    bad_id = referral(501) | {"id": NHS_NUMBER}
    response = call(
        base_url,
        keys["own agency"],
        "POST",
        "/v1/events",
        content=json.dumps([event, bad_id]),
        headers=BATCH,
    )
    assert [e["status"] for e in response.json()["events"]] == ["rejected", "rejected"]
    for text in (response.text, caplog.text):
        assert NHS_NUMBER not in text
        assert NHS_NUMBER.replace(" ", "") not in text


def _conformance() -> list[Any]:
    cases = []
    for path in sorted((SHARED / "conformance" / "cloudevents").glob("*.json")):
        suite = json.loads(path.read_text(encoding="utf-8-sig"))
        for case in suite["tests"]:
            kind = case.get("testType", suite["testType"])
            cases.append(pytest.param(kind, case, id=f"{path.stem}:{case['id']}"))
    return cases


@pytest.mark.parametrize(("kind", "case"), _conformance())
def test_the_cloudevents_conformance_cases_posted_to_the_server(
    base_url: str, keys: dict[str, str], kind: str, case: dict[str, Any]
) -> None:
    batch = "batch" in case
    body = json.dumps(case["batch"] if batch else case["event"])
    response = call(
        base_url,
        keys["own agency"],
        "POST",
        "/v1/events",
        content=body,
        headers=BATCH if batch else STRUCTURED,
    )
    if response.status_code != 200:
        assert kind.startswith("Invalid"), response.text
        assert response.status_code == 400
        assert response.json()["reason"]
        return
    events = response.json()["events"]
    malformed = [e for e in events if (e["reason"] or "").startswith("malformed CloudEvent")]
    if kind.startswith("Valid"):
        assert malformed == []
    else:
        assert malformed, events
        assert all(e["field"] and e["reason"] for e in malformed)


def test_the_auditor_verifies_proves_replays_and_traces_over_the_api(
    base_url: str, keys: dict[str, str]
) -> None:
    auditor = keys["auditor"]
    verified = call(base_url, auditor, "GET", "/v1/audit/verify").json()
    assert verified["ok"], verified
    status = call(base_url, auditor, "GET", "/v1/audit/status").json()
    assert status["lastVerify"]["ok"]
    assert status["lastVerify"]["leaves"] == verified["leaves"]
    assert verified["leaves"] == verified["events"] > 0
    note = call(base_url, auditor, "POST", "/v1/audit/checkpoints").text
    vkey = call(base_url, auditor, "GET", "/v1/audit/key").json()["verifier_key"]
    checkpoint = verify_note(note, vkey)
    assert note in call(base_url, auditor, "GET", "/v1/audit/checkpoints").text
    size = checkpoint.size
    proof = call(base_url, auditor, "GET", f"/v1/audit/proofs/inclusion?leaf={size // 2}").json()
    assert proof["treeSize"] == size
    verify_inclusion(
        proof["leafIdx"],
        proof["treeSize"],
        base64.b64decode(proof["leafHash"]),
        [base64.b64decode(h) for h in proof["proof"] or []],
        checkpoint.root,
    )
    path = f"/v1/audit/proofs/consistency?size1={size // 3}&size2={size}"
    consistent = call(base_url, auditor, "GET", path).json()
    verify_consistency(
        consistent["size1"],
        consistent["size2"],
        base64.b64decode(consistent["root1"]),
        checkpoint.root,
        [base64.b64decode(h) for h in consistent["proof"] or []],
    )
    replayed = call(
        base_url, auditor, "GET", "/v1/audit/replay?position=0&question=demand&by=locality"
    ).json()
    assert replayed["rows"] == []  # nothing had been stored at position 0
    now = call(
        base_url, auditor, "GET", f"/v1/audit/replay?position={10**9}&question=demand"
    ).json()
    month = now["rows"][len(now["rows"]) // 2]
    traced = call(
        base_url, auditor, "GET", f"/v1/audit/trace/demand?cell=month={month['month']}"
    ).json()
    assert traced["figures"] == {
        "count_referrals": month["count_referrals"],
        "count_contacts": month["count_contacts"],
    }
    assert len(traced["events"]) == month["count_referrals"] + month["count_contacts"]
    refused = call(base_url, keys["commissioner"], "GET", "/v1/audit/trace/demand?cell=month=x")
    assert refused.status_code == 403
