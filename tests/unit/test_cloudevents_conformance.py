"""The envelope against the public CloudEvents JSON-format conformance cases."""

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.cloudevents import CloudEvent, CloudEventBatch
from tests.conftest import SHARED

CASES_DIR = SHARED / "conformance" / "cloudevents"


def _cases() -> list[Any]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.json")):
        suite = json.loads(path.read_text(encoding="utf-8-sig"))
        for case in suite["tests"]:
            kind = case.get("testType", suite["testType"])
            cases.append(pytest.param(kind, case, id=f"{path.stem}:{case['id']}"))
    return cases


def test_the_conformance_suite_is_present() -> None:
    assert len(_cases()) >= 40, f"expected the CloudEvents cases under {CASES_DIR}"


@pytest.mark.parametrize(("kind", "case"), _cases())
def test_the_envelope_accepts_every_valid_case_and_refuses_every_invalid_one(
    kind: str, case: dict[str, Any]
) -> None:
    document = json.dumps(case["batch"] if "batch" in case else case["event"])

    def parse() -> object:
        if "batch" in case:
            return CloudEventBatch.validate_json(document)
        return CloudEvent.model_validate_json(document)

    if kind.startswith("Valid"):
        parse()
    else:
        with pytest.raises(ValidationError):
            parse()


def test_a_refused_event_never_repeats_its_value_in_the_error() -> None:
    secret = "9434765919-lunchtime"
    event = {"specversion": "1.0", "id": "x", "source": "#s", "type": "t", "time": secret}
    with pytest.raises(ValidationError) as caught:
        CloudEvent.model_validate(event)
    assert secret not in str(caught.value)
    assert "time" in str(caught.value)


def test_a_batch_error_never_repeats_the_refused_event() -> None:
    with pytest.raises(ValidationError) as caught:
        CloudEventBatch.validate_python(
            [{"specversion": "1.0", "type": "t", "source": "Ms Secret"}]
        )
    assert "Ms Secret" not in str(caught.value)


def test_conformance_data_lives_beside_the_checkout() -> None:
    assert Path(CASES_DIR).is_dir()
