"""schemathesis against the served OpenAPI: every route, with a key of its role, never fails
with a server error nor answers outside its documented schema."""

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.integration.test_api import base_url, keys, place_dir  # noqa: F401  (fixtures)

ROLE_OF_PREFIX = [
    ("/v1/events", "own agency"),
    ("/v1/agency/", "own agency"),
    ("/v1/questions", "commissioner"),
    ("/v1/disclosure", "steward"),
    ("/v1/partnerships", "steward"),
    ("/v1/audit/", "auditor"),
]


def test_no_route_fails_or_breaks_its_schema(
    base_url: str,  # noqa: F811
    keys: dict[str, str],  # noqa: F811
) -> None:
    schema = schemathesis.openapi.from_url(base_url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    statuses: list[int] = []

    def exercise(operation: Any, headers: dict[str, str]) -> None:
        @given(operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: Any) -> None:
            response = case.call_and_validate(
                headers=headers, checks=[not_a_server_error, response_schema_conformance]
            )
            statuses.append(response.status_code)

        call()

    for operation in operations:
        role = next((r for p, r in ROLE_OF_PREFIX if operation.path.startswith(p)), None)
        exercise(operation, {"Authorization": f"Bearer {keys[role]}"} if role else {})
    assert len(statuses) >= len(operations)
    assert 200 in statuses
