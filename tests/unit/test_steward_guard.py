"""A steward's text holding a person's identifier (an NHS number, an email address) is refused
with a 422 naming the field, never echoed, never stored (issue 14)."""

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hub.api.app import create_app
from hub.api.service import open_service
from hub.settings import Settings

NHS_NUMBER = "943 476 5919"  # check-digit valid
EMAIL = "jo.bloggs@example.org"
OUTCOME = {
    "code": "gate-outcome",
    "name": "An outcome for the guard",
    "cohort": {"events": ["hub.referral.made"]},
    "attainment": {"min_value": 1, "within_days": 90},
    "target_percent": 50,
}
COMMITMENT = {
    "partner": "police-north",
    "outcome": "gate-outcome",
    "contribution": "joint visits",
    "measure": "visits made",
    "target": 40,
}


class Client:
    """Requests straight to the app, over its own open service."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)

    def request(self, method: str, path: str, key: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as c:
                return await c.request(method, path, headers=headers, **kw)

        return asyncio.run(go())


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, str]]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("gate"))
    client = Client(settings)
    with open_service(settings, None, True) as service:
        client.app.state.service, client.app.state.audit = service, service.runtime.audit
        key = service.keys.create("steward").token
        for path, body in [
            ("/v1/partnerships", {"slug": "m", "name": "M", "place": "m"}),
            ("/v1/partnerships/m/partners", {"partner": "police-north"}),
            ("/v1/partnerships/m/outcomes", {"outcome": OUTCOME}),
        ]:
            response = client.request("POST", path, key, json=body)
            assert response.status_code == 201, response.text
        yield client, key


# Every free-text field a steward writes: the route, a valid body, and where the text goes.
FREE_TEXT: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    ("/v1/partnerships", {"slug": "n", "name": "N", "place": "n"}, ("name",)),
    ("/v1/partnerships/m/partners/police-north/leave", {"reason": "moved"}, ("reason",)),
    ("/v1/partnerships/m/outcomes", {"outcome": OUTCOME | {"code": "o2"}}, ("outcome", "name")),
    ("/v1/partnerships/m/commitments", {"commitment": COMMITMENT}, ("commitment", "contribution")),
    ("/v1/partnerships/m/commitments", {"commitment": COMMITMENT}, ("commitment", "measure")),
    (
        "/v1/partnerships/m/targets",
        {"outcome": "gate-outcome", "target_percent": 55, "reason": "agreed"},
        ("reason",),
    ),
    (
        "/v1/partnerships/m/reviews",
        {"outcome": "gate-outcome", "decision": "continue", "rationale": "on track"},
        ("rationale",),
    ),
    (
        "/v1/partnerships/m/reviews",
        {"outcome": "gate-outcome", "decision": "continue", "rationale": "on track"},
        ("decision",),
    ),
]


def _with(body: dict[str, Any], where: tuple[str, ...], text: str) -> dict[str, Any]:
    if len(where) == 1:
        return body | {where[0]: text}
    return body | {where[0]: _with(body[where[0]], where[1:], text)}


@pytest.mark.parametrize("identifier", [NHS_NUMBER, NHS_NUMBER.replace(" ", ""), EMAIL])
@pytest.mark.parametrize(("path", "body", "where"), FREE_TEXT)
def test_a_stewards_text_holding_an_identifier_is_refused_unechoed_and_unstored(
    hub: tuple[Client, str],
    path: str,
    body: dict[str, Any],
    where: tuple[str, ...],
    identifier: str,
) -> None:
    client, key = hub
    before = client.request("GET", "/v1/partnerships/m", key).json()
    text = f"as discussed with {identifier} today"
    response = client.request("POST", path, key, json=_with(body, where, text))
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "body." + ".".join(where)
    assert set(response.json()) == {"field", "reason"}
    assert identifier not in response.text
    digits = re.sub(r"\D", "", identifier)
    if digits:  # not even the NHS number's digits, however spaced
        assert digits not in re.sub(r"\D", "", response.text)
    after = client.request("GET", "/v1/partnerships/m", key)
    assert after.json() == before
    assert client.request("GET", "/v1/partnerships/n", key).status_code == 404


def test_an_ordinary_commitment_is_still_taken(hub: tuple[Client, str]) -> None:
    client, key = hub
    response = client.request(
        "POST", "/v1/partnerships/m/commitments", key, json={"commitment": COMMITMENT}
    )
    assert response.status_code == 201, response.text
