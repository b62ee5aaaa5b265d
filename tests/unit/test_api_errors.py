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
