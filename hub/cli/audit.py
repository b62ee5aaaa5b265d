"""`hub audit ...`: the auditor's commands on the store (no log or service needed).

Exit codes: 0 ok, 1 the check failed (tampering found), 2 bad usage or unreadable input.
"""

import typer

from hub.cli import audit_history, audit_ledger

audit_app = typer.Typer(
    name="audit",
    help="Auditors' commands: verify the store against its ledger and signed checkpoints, "
    "prove events and consistency, replay the past, trace figures.\n\n"
    "Example: `hub audit verify --checkpoint ~/kept/checkpoints.txt`",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
audit_app.command("key")(audit_ledger.key)
audit_app.command("checkpoint")(audit_ledger.checkpoint)
audit_app.command("verify")(audit_ledger.verify_command)
audit_app.command("prove")(audit_ledger.prove)
audit_app.command("consistency")(audit_ledger.consistency)
audit_app.command("replay")(audit_history.replay)
audit_app.command("trace")(audit_history.trace)
