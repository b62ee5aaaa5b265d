"""The checkpointer signs as the hub goes: after N new leaves, or after T seconds with any new
leaf, never for a ledger that has not grown; every note it appends verifies."""

from datetime import UTC, datetime
from pathlib import Path

from hub.audit.auditor import Audit, Checkpointer
from hub.audit.signed_note import verify_note
from hub.bootstrap import record_keys_of
from hub.domain.journey import Journey
from hub.settings import Settings
from hub.store.application import Hub

AT = datetime(2025, 1, 1, tzinfo=UTC)


def test_signs_after_every_n_leaves_or_t_seconds_with_new_leaves(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    app = Hub(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "hub.db"),
        }
    )
    now = [0.0]
    audit = Audit(app, settings, record_keys_of(app))
    signer = Checkpointer(audit, every=5, seconds=60, clock=lambda: now[0])

    made = [0]

    def store(count: int) -> None:
        for _ in range(count):
            made[0] += 1
            app.save(Journey(f"{made[0]:064x}", timestamp=AT))  # one leaf each

    def sizes() -> list[int]:
        if not audit.file.path.exists():
            return []
        return [verify_note(n, audit.key.verifier_key()).size for n in audit.file.notes()]

    signer.tick()
    assert sizes() == []  # nothing stored, nothing signed
    store(3)
    signer.tick()
    assert sizes() == []  # 3 < 5 leaves and no time has passed
    store(2)
    signer.tick()
    assert sizes() == [5]
    signer.tick()
    assert sizes() == [5]  # the ledger has not grown
    store(1)
    now[0] = 59.0
    signer.tick()
    assert sizes() == [5]
    now[0] = 61.0
    signer.tick()
    assert sizes() == [5, 6]  # a minute with a new leaf
    now[0] = 500.0
    signer.tick()
    assert sizes() == [5, 6]  # time alone signs nothing new
    app.close()
