"""The API's gate (issue 14): a /v1 route's key is checked from the headers before its body is
read, and every body is held to the limit, declared or streamed."""

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from hub.access.keys import Principal
from hub.api.limits import Limits


class Gate:
    """The gate alone, round an app that records whether it read the body."""

    def __init__(self, max_body: int = 100) -> None:
        self.read: list[bytes] = []
        self.sent: list[dict[str, Any]] = []
        self.gate = Limits(self.inner, max_body=max_body)

    async def inner(self, scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise OSError("the client went away")
            self.read.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    def call(self, path: str, headers: dict[str, str], chunks: list[bytes]) -> int:
        keys = SimpleNamespace(
            verify=lambda t: Principal("k1", "steward", None) if t == "good" else None
        )
        scope = {
            "type": "http",
            "method": "POST",
            "path": path,
            "headers": [(k.lower().encode(), v.encode("latin-1")) for k, v in headers.items()],
            "app": SimpleNamespace(state=SimpleNamespace(service=SimpleNamespace(keys=keys))),
        }
        pending = [
            {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
            for i, c in enumerate(chunks)
        ]

        async def receive() -> dict[str, Any]:
            return pending.pop(0) if pending else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            self.sent.append(message)

        asyncio.run(self.gate(scope, receive, send))
        return int(self.sent[0]["status"])


@pytest.mark.parametrize("authorization", [None, "Bearer bad", "Basic good", "Bearer "])
def test_a_v1_route_without_a_good_key_is_a_401_and_its_body_is_never_read(
    authorization: str | None,
) -> None:
    gate = Gate()
    headers = {"Content-Length": "999999999"}
    if authorization is not None:
        headers["Authorization"] = authorization
    assert gate.call("/v1/partnerships", headers, [b"x" * 10] * 3) == 401
    assert gate.read == []
    assert (b"www-authenticate", b"Bearer") in gate.sent[0]["headers"]
    body = gate.sent[1]["body"]
    assert b'"field":null' in body
    assert b'"reason"' in body


def test_a_declared_length_over_the_limit_is_a_413_before_the_body_is_read() -> None:
    gate = Gate(max_body=100)
    headers = {"Authorization": "Bearer good", "Content-Length": "101"}
    assert gate.call("/v1/partnerships", headers, [b"x" * 101]) == 413
    assert gate.read == []
    assert gate.call("/dashboard", {"Content-Length": "101"}, [b"x" * 101]) == 413


def test_a_streamed_body_is_a_413_once_it_passes_the_limit_and_no_more_is_read() -> None:
    gate = Gate(max_body=100)
    chunks = [b"x" * 40] * 10
    assert gate.call("/v1/partnerships", {"Authorization": "Bearer good"}, chunks) == 413
    assert sum(map(len, gate.read)) <= 100
    assert [m["type"] for m in gate.sent] == ["http.response.start", "http.response.body"]
    assert b'"field":"body"' in gate.sent[1]["body"]


def test_a_body_within_the_limit_and_public_routes_pass() -> None:
    gate = Gate(max_body=100)
    assert gate.call("/v1/partnerships", {"Authorization": "Bearer good"}, [b"x" * 100]) == 201
    assert Gate().call("/health", {}, [b""]) == 201


def test_a_declared_length_in_digits_other_than_ascii_is_not_a_server_error() -> None:
    """'²' is a digit to str.isdigit() and not to int(): the gate counts the body instead."""
    gate = Gate(max_body=100)
    status = gate.call(
        "/v1/partnerships", {"authorization": "Bearer good", "content-length": "9²"}, [b"{}"]
    )
    assert status == 201


def test_an_access_store_failing_is_a_503_and_the_body_is_never_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from schemas.errors import HubError

    def failing(token: str) -> Principal | None:
        raise HubError("the access store is locked")

    gate = Gate()
    original = SimpleNamespace

    def namespace(**kwargs: Any) -> Any:
        if "verify" in kwargs:
            kwargs["verify"] = failing
        return original(**kwargs)

    monkeypatch.setitem(globals(), "SimpleNamespace", namespace)
    status = gate.call("/v1/partnerships", {"authorization": "Bearer good"}, [b"{}"])
    assert status == 503
    assert gate.read == []
