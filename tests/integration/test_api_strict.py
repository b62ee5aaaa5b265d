"""Issue 14: every refusal a 4xx naming its field by its schema name, never an input value in a
response or a log line; one error shape for every 4xx; server faults 5xx with a generic reason;
the headers every answer carries."""

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.api.app import create_app
from hub.settings import Settings
from schemas.errors import HubError
from tests.integration.test_api import BATCH, STRUCTURED, keys, place_dir, referral  # noqa: F401

NHS = "9434765919"
EMAIL = "jo.bloggs@example.com"


@pytest.fixture(scope="module")
def client(place_dir: Path) -> Iterator[TestClient]:  # noqa: F811
    app = create_app(Settings(data_dir=place_dir), worker=False)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def call(client: TestClient, key: str | None, method: str, path: str, **request: Any) -> Any:
    headers = dict(request.pop("headers", {}))
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return client.request(method, path, headers=headers, **request)


def binary(version: str) -> dict[str, str]:
    event = referral(900)
    headers = {f"ce-{k}": str(v) for k, v in event.items() if k != "data"}
    return headers | {"ce-recordversion": version, "Content-Type": "application/json"}


def assert_unechoed(response: Any, *texts: str) -> None:
    body = response.text
    assert {"field", "reason"} <= set(response.json()), body
    for text in texts:
        assert text not in body


@pytest.mark.parametrize("version", [f"{NHS}%C2%B2", f"{NHS}%E2%91%A0", "9" * 5000])
def test_a_binary_version_that_is_not_ascii_digits_is_a_4xx_and_never_logged(
    client: TestClient,
    keys: dict[str, str],  # noqa: F811
    caplog: pytest.LogCaptureFixture,
    version: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    data = json.dumps(referral(900)["data"])
    response = call(
        client, keys["own agency"], "POST", "/v1/events", content=data, headers=binary(version)
    )
    assert response.status_code in {400, 422}, response.text
    assert response.json()["field"] == "recordversion"
    assert response.json()["reason"]
    assert_unechoed(response, NHS, "9" * 30)
    assert NHS not in caplog.text
    assert "9" * 30 not in caplog.text


def test_an_unknown_data_key_is_named_by_its_parent_never_by_itself(
    client: TestClient,
    keys: dict[str, str],  # noqa: F811
) -> None:
    event = referral(901)
    event["data"] = dict(event["data"], **{NHS: "x"})
    response = call(
        client,
        keys["own agency"],
        "POST",
        "/v1/events",
        content=json.dumps(event),
        headers=STRUCTURED,
    )
    (outcome,) = response.json()["events"]
    assert (outcome["status"], outcome["field"]) == ("rejected", "data")
    assert "unknown attribute" in outcome["reason"]
    assert NHS not in response.text


@pytest.mark.parametrize("name", [NHS, EMAIL, "Jo-Bloggs"])
def test_an_attribute_named_by_personal_data_is_never_echoed(
    client: TestClient,
    keys: dict[str, str],  # noqa: F811
    name: str,
) -> None:
    event = referral(902) | {name: "x"}
    response = call(
        client,
        keys["own agency"],
        "POST",
        "/v1/events",
        content=json.dumps(event),
        headers=STRUCTURED,
    )
    (outcome,) = response.json()["events"]
    assert outcome["status"] == "rejected"
    assert name not in response.text
    assert name.lower() not in response.text


def test_a_ce_header_given_twice_is_a_422(
    client: TestClient,
    keys: dict[str, str],  # noqa: F811
) -> None:
    headers = [(k.encode(), v.encode()) for k, v in binary("1").items()]
    headers += [
        (b"ce-id", b"another-id"),
        (b"Authorization", f"Bearer {keys['own agency']}".encode()),
    ]
    data = json.dumps(referral(900)["data"]).encode()
    response = client.post("/v1/events", content=data, headers=headers)
    assert response.status_code == 422, response.text
    assert "another-id" not in response.text


def test_a_ce_header_named_by_an_nhs_number_is_never_echoed(
    client: TestClient,
    keys: dict[str, str],  # noqa: F811
) -> None:
    headers = binary("1") | {f"ce-{NHS}": "x"}
    data = json.dumps(referral(900)["data"])
    response = call(client, keys["own agency"], "POST", "/v1/events", content=data, headers=headers)
    assert NHS not in response.text
    assert response.json()["events"][0]["status"] == "rejected"


@pytest.mark.parametrize(
    ("role", "method", "path", "body"),
    [
        ("commissioner", "GET", f"/v1/questions/{NHS}", None),
        ("steward", "GET", f"/v1/partnerships/{NHS}", None),
        ("steward", "GET", f"/v1/partnerships/{NHS}/attainment", None),
        ("steward", "POST", f"/v1/partnerships/{NHS}/partners", {"partner": "police-north"}),
        ("steward", "POST", f"/v1/partnerships/northbridge/partners/{NHS}/leave", {"reason": "x"}),
        ("steward", "POST", "/v1/partnerships", {"slug": "x", "name": "x", NHS: "x"}),
        ("commissioner", "GET", f"/v1/questions/demand?by={NHS}", None),
        ("commissioner", "GET", f"/v1/questions/demand?from={NHS}&to=2024-01", None),
        ("commissioner", "GET", f"/v1/questions/demand?period={NHS}", None),
        ("commissioner", "GET", f"/v1/questions/demand?period=FY{NHS}", None),
        ("steward", "GET", f"/v1/partnerships/northbridge/attainment?period={NHS}", None),
        ("commissioner", "GET", f"/v1/questions/demand?period=2024&from={NHS}", None),
    ],
)
def test_refused_slugs_and_values_are_never_echoed(
    client: TestClient,
    keys: dict[str, str],  # noqa: F811
    role: str,
    method: str,
    path: str,
    body: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="hub")
    response = call(client, keys[role], method, path, json=body)
    assert 400 <= response.status_code < 500, response.text
    assert_unechoed(response, NHS)
    assert NHS not in caplog.text


def test_an_unknown_question_is_no_such_question(
    client: TestClient,
    keys: dict[str, str],  # noqa: F811
) -> None:
    response = call(client, keys["commissioner"], "GET", f"/v1/questions/{NHS}")
    assert response.status_code == 404
    assert response.json()["field"] == "slug"
    assert "no such question" in response.json()["reason"]


@pytest.mark.parametrize(
    "query",
    [
        "by=locality&by=need",
        "from=2024-01&from=2024-02&to=2024-06",
        "period=2024&period=2025",
        "by=need,need",
        "format=json&format=csv",
    ],
)
def test_repeated_parameters_and_cuts_are_a_422(
    client: TestClient,
    keys: dict[str, str],  # noqa: F811
    query: str,
) -> None:
    response = call(client, keys["commissioner"], "GET", f"/v1/questions/demand?{query}")
    assert response.status_code == 422, response.text
    assert response.json()["field"] in {"by", "from", "period", "format"}


@pytest.mark.parametrize(
    ("method", "path", "content", "status"),
    [
        ("GET", f"/v1/nowhere/{NHS}", None, 404),
        ("DELETE", "/v1/questions", None, 405),
        ("POST", "/v1/partnerships", b"{not json", 422),
    ],
)
def test_every_4xx_has_the_one_shape(
    client: TestClient,
    keys: dict[str, str],  # noqa: F811
    method: str,
    path: str,
    content: bytes | None,
    status: int,
) -> None:
    headers = {"Content-Type": "application/json"}
    response = call(client, keys["steward"], method, path, content=content, headers=headers)
    assert response.status_code == status
    assert set(response.json()) == {"field", "reason"}, response.text
    assert NHS not in response.text


def test_a_record_key_store_failure_on_erasure_is_a_5xx_with_a_generic_reason(
    client: TestClient,
    keys: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = client.app.state.service  # type: ignore[attr-defined]

    def failing(agency: str, recordref: str) -> None:
        raise HubError("another process holds /srv/hub/record-keys.sqlite open")

    monkeypatch.setattr(service, "erase", failing)
    response = call(client, keys["own agency"], "POST", f"/v1/agency/records/{'0' * 64}/erasure")
    assert response.status_code in {500, 503}
    assert "/srv/hub" not in response.text
    assert set(response.json()) == {"field", "reason"}


def test_an_access_store_failure_is_a_5xx(
    client: TestClient,
    keys: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = client.app.state.service  # type: ignore[attr-defined]

    def failing(*args: Any, **kwargs: Any) -> None:
        raise HubError("the access store at /srv/hub/access.sqlite is locked")

    monkeypatch.setattr(service.keys, "verify", failing)
    response = call(client, keys["commissioner"], "GET", "/v1/questions")
    assert response.status_code in {500, 503}
    assert "/srv/hub" not in response.text


def test_every_answer_is_no_store_and_the_docs_are_framed_by_no_one(
    client: TestClient,
    keys: dict[str, str],  # noqa: F811
) -> None:
    for path, key in (
        ("/health", None),
        ("/v1/questions", keys["commissioner"]),
        ("/v1/nowhere", None),
        ("/docs", None),
    ):
        assert call(client, key, "GET", path).headers["Cache-Control"] == "no-store", path
    docs = client.get("/docs")
    assert docs.headers["X-Frame-Options"] == "DENY"
    policy = docs.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy
    assert "/static-offline-docs/" in docs.text


def test_a_server_fault_is_a_500_whose_log_has_its_kind_not_its_message(
    client: TestClient,
    keys: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    service = client.app.state.service  # type: ignore[attr-defined]

    def failing(*args: Any) -> None:
        raise ValueError(f"invalid literal for int() with base 10: {NHS!r}")

    monkeypatch.setattr(service, "answer", failing)
    response = call(client, keys["commissioner"], "GET", "/v1/questions/demand")
    assert response.status_code == 500
    assert set(response.json()) == {"field", "reason"}
    assert "ValueError" in caplog.text
    assert NHS not in caplog.text
    assert NHS not in response.text
