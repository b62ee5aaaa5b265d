"""API keys: shown once, kept only as a hash, revocable; the access log keeps reads, not figures."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.access.keys import CredentialError, KeyStore
from hub.cli import app

runner = CliRunner()


def test_a_key_is_printed_once_kept_as_a_hash_and_stops_working_when_revoked(
    tmp_path: Path,
) -> None:
    made = runner.invoke(
        app,
        [
            "keys",
            "create",
            "--role",
            "agency",
            "--agency",
            "police-north",
            "--data-dir",
            str(tmp_path),
        ],
    )
    assert made.exit_code == 0, made.output
    token = next(line for line in made.output.splitlines() if line.startswith("hub."))
    secret = token.split(".")[2]
    assert secret.encode() not in (tmp_path / "access.sqlite").read_bytes()
    store = KeyStore(tmp_path / "access.sqlite")
    principal = store.verify(token)
    assert principal is not None
    assert (principal.role, principal.agency) == ("agency", "police-north")
    assert store.verify(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    listed = runner.invoke(app, ["keys", "list", "--data-dir", str(tmp_path)])
    assert principal.key_id in listed.output
    assert secret not in listed.output
    revoked = runner.invoke(app, ["keys", "revoke", principal.key_id, "--data-dir", str(tmp_path)])
    assert revoked.exit_code == 0
    assert store.verify(token) is None
    assert store.all()[0].last_used is not None
    store.close()


@pytest.mark.parametrize(
    ("role", "agency"), [("agency", None), ("commissioner", "police-north"), ("admin", None)]
)
def test_a_key_for_no_role_or_the_wrong_agency_option_is_refused(
    tmp_path: Path, role: str, agency: str | None
) -> None:
    store = KeyStore(tmp_path / "access.sqlite")
    with pytest.raises(CredentialError):
        store.create(role, agency)
    store.close()


def test_the_access_log_keeps_who_read_what_and_where(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "access.sqlite")
    who = store.create("commissioner").principal
    store.record(who, "/v1/questions/demand", "demand", "locality", 42)
    [(seq, entry)] = store.accesses()
    assert (entry.key_id, entry.role, entry.question, entry.cuts, entry.position) == (
        who.key_id,
        "commissioner",
        "demand",
        "locality",
        42,
    )
    assert store.accesses(after=seq) == []
    store.close()
