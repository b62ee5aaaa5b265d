"""`hub audit ...`: every auditor's command documented with an example."""

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from hub.cli.audit import audit_app

AUDIT_COMMANDS = sorted(get_command(audit_app).commands)  # type: ignore[attr-defined]


def test_the_auditors_commands_are_there() -> None:
    assert set(AUDIT_COMMANDS) == {
        "key",
        "checkpoint",
        "verify",
        "prove",
        "consistency",
        "replay",
        "trace",
    }


@pytest.mark.parametrize("command", AUDIT_COMMANDS)
def test_every_audit_command_has_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(audit_app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Example" in result.output
    assert f"hub audit {command}" in result.output
