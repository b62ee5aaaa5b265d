"""The API's one error handler withholds every value a request carried from a reason."""

from hub.api.errors import WITHHELD, withheld


def test_quoted_and_given_values_are_withheld_and_the_message_words_kept() -> None:
    message = "partner 9434765919 is not in 'jo@example.com'; send application/cloudevents+json"
    shown = withheld(message, ["9434765919", "json", "no"])
    assert "9434765919" not in shown
    assert "jo@example.com" not in shown
    assert shown.count(WITHHELD) == 2
    assert "application/cloudevents+json" in shown  # `json` only as a whole word
    assert "not in" in shown  # values under three characters are left alone


def test_a_routes_own_parameter_names_stay_in_a_reason_and_any_other_name_is_withheld() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from hub.api.errors import install
    from schemas.errors import HubError

    app = FastAPI()
    install(app)

    @app.get("/asked")
    def asked(period: str = "") -> None:
        raise HubError("period is off the grid, and so is 9434765919", field="period")

    with TestClient(app) as client:
        reason = client.get("/asked?period=2025-Q9&9434765919=x").json()["reason"]
    assert reason.startswith("period is off the grid")  # the API's own word, not a value
    assert "9434765919" not in reason  # an undeclared name may be a person's number
