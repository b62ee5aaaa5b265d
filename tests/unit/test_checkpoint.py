"""Signed checkpoints: C2SP signed notes with Ed25519, the spec's own example, and the file."""

import base64
import functools
import multiprocessing
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from hub.audit.checkpoint import Checkpoint, CheckpointError
from hub.audit.checkpoint_file import CheckpointFile
from hub.audit.signed_note import verify_note, verify_note_text
from hub.audit.signing_key import SigningKey
from hub.store.merkle import leaf_hash, root_of

ORIGIN = "hub.example/ledger"

# The example of c2sp.org/signed-note, section "Verifier keys", "Example" (github.com/C2SP/C2SP,
# signed-note.md at commit 5ba5ee830903e91240fc6f9f3a7a9293d49e69c9), verbatim.
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n"
    "\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


@functools.cache
def _key(name: str = ORIGIN, seed: int = 0) -> SigningKey:
    return SigningKey(Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32), name)


def _checkpoint(size: int = 3) -> Checkpoint:
    return Checkpoint(ORIGIN, size, root_of([leaf_hash(i.to_bytes(8, "big")) for i in range(size)]))


def _signature_line(note: str) -> str:
    return note.rsplit("\n\n", 1)[1]


def _bit_flips(note: str) -> list[str]:
    """The note with each single bit changed in turn; invalid UTF-8 kept as lone surrogates."""
    raw = note.encode()
    flipped = []
    for i in range(len(raw) * 8):
        changed = bytearray(raw)
        changed[i // 8] ^= 1 << (i % 8)
        flipped.append(changed.decode("utf-8", errors="surrogateescape"))
    return flipped


origins = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=40
)


@given(origin=origins, size=st.integers(0, 2**64 - 1), root=st.binary(min_size=32, max_size=32))
def test_a_signed_checkpoint_verifies_and_gives_back_what_was_signed(
    origin: str, size: int, root: bytes
) -> None:
    checkpoint = Checkpoint(origin, size, root)
    note = _key().sign(checkpoint)
    assert note.startswith(f"{checkpoint.body()}\n\u2014 {ORIGIN} ")
    assert note.count("\n") == 5
    assert verify_note(note, _key().verifier_key()) == checkpoint
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


def test_the_note_has_the_c2sp_layout() -> None:
    checkpoint = _checkpoint()
    note = _key().sign(checkpoint)
    body, signature = note.split("\n\n")
    assert (
        body + "\n"
        == checkpoint.body()
        == f"{ORIGIN}\n3\n{base64.b64encode(checkpoint.root).decode()}\n"
    )
    dash, name, encoded = signature.removesuffix("\n").split(" ")
    assert (dash, name) == ("\u2014", ORIGIN)
    raw = base64.b64decode(encoded)
    assert raw[:4] == _key().key_id
    assert len(raw) == 4 + 64
    vkey_name, vkey_id, vkey = _key().verifier_key().split("+", 2)
    assert (vkey_name, vkey_id) == (ORIGIN, _key().key_id.hex())
    assert base64.b64decode(vkey)[:1] == b"\x01"
    assert len(base64.b64decode(vkey)) == 33


def test_every_single_bit_changed_in_the_body_or_the_signature_is_refused() -> None:
    note = _key().sign(_checkpoint())
    for changed in _bit_flips(note):
        with pytest.raises(CheckpointError):
            verify_note(changed, _key().verifier_key())


@given(data=st.data())
def test_any_character_replaced_anywhere_is_refused(data: st.DataObject) -> None:
    note = _key().sign(_checkpoint(5))
    i = data.draw(st.integers(0, len(note) - 1))
    new = data.draw(st.characters(codec="utf-8").filter(lambda c: c != note[i]))
    with pytest.raises(CheckpointError):
        verify_note(note[:i] + new + note[i + 1 :], _key().verifier_key())


def test_another_key_is_refused_even_under_the_same_name() -> None:
    note = _key().sign(_checkpoint())
    with pytest.raises(CheckpointError, match="no signature by"):
        verify_note(note, _key(seed=1).verifier_key())
    with pytest.raises(CheckpointError, match="no signature by"):
        verify_note(note, _key("witness.example/w1").verifier_key())


def test_a_cosigned_note_verifies_with_either_key() -> None:
    checkpoint = _checkpoint()
    log, witness = _key(), _key("witness.example/w1", seed=2)
    note = log.sign(checkpoint) + _signature_line(witness.sign(checkpoint))
    assert note.count("\n— ") == 2
    assert verify_note(note, log.verifier_key()) == checkpoint
    assert verify_note(note, witness.verifier_key()) == checkpoint
    with pytest.raises(CheckpointError, match="no signature by"):
        verify_note(note, _key(seed=3).verifier_key())


def test_a_failing_line_by_the_same_key_refuses_the_note_even_beside_a_good_one() -> None:
    note = _key().sign(_checkpoint(3)) + _signature_line(_key().sign(_checkpoint(4)))
    with pytest.raises(CheckpointError, match=r"note line 6: the signature by .* does not verify"):
        verify_note(note, _key().verifier_key())


def test_the_signed_note_specs_own_example_verifies() -> None:
    assert verify_note_text(SPEC_NOTE, SPEC_VKEY) == "This is an example message.\n"
    with pytest.raises(CheckpointError, match="checkpoint has 1 lines"):
        verify_note(SPEC_NOTE, SPEC_VKEY)  # a signed note, but not a checkpoint


def test_the_signed_note_specs_own_example_fails_when_altered() -> None:
    for changed in [*_bit_flips(SPEC_NOTE), SPEC_NOTE.replace("example.", "Example.")]:
        with pytest.raises(CheckpointError):
            verify_note_text(changed, SPEC_VKEY)


@pytest.mark.parametrize(
    ("vkey", "reason"),
    [
        ("example.com/foo+530d903a", "type none is not Ed25519"),
        ("example.com/foo", "not 8 lowercase hex digits"),
        ("+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "must be non-empty"),
        ("example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "lowercase hex"),
        ("example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "not the hash"),
        ("example.com/bar+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "not the hash"),
        ("example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "not Ed25519"),
        ("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2", "not base64"),
        (
            "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k9A==",
            "33 key bytes, not 32",
        ),
    ],
)
def test_a_malformed_verifier_key_is_refused(vkey: str, reason: str) -> None:
    with pytest.raises(CheckpointError, match=reason):
        verify_note_text(SPEC_NOTE, vkey)


def test_the_key_file_is_private_and_loads_as_the_same_key(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "deeper" / "ledger.pem"
    made = SigningKey.load_or_create(path, ORIGIN)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert [p.name for p in path.parent.iterdir()] == ["ledger.pem"]
    loaded = SigningKey.load_or_create(path, ORIGIN)
    assert loaded.verifier_key() == made.verifier_key()
    assert (loaded.name, loaded.key_id) == (ORIGIN, made.key_id)
    assert verify_note(made.sign(_checkpoint()), loaded.verifier_key()) == _checkpoint()


def test_a_key_file_others_can_read_or_that_is_no_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.pem"
    SigningKey.load_or_create(path, ORIGIN)
    path.chmod(0o640)
    with pytest.raises(CheckpointError, match="can be read by others"):
        SigningKey.load_or_create(path, ORIGIN)
    path.write_text("not a key\n")
    path.chmod(0o600)
    with pytest.raises(CheckpointError, match="no unencrypted PEM private key"):
        SigningKey.load_or_create(path, ORIGIN)


@pytest.mark.parametrize("name", ["", "has space", "has+plus", "tab\there"])
def test_a_key_name_with_spaces_or_plus_is_refused(name: str) -> None:
    with pytest.raises(CheckpointError, match="must be non-empty, without spaces or '\\+'"):
        SigningKey(Ed25519PrivateKey.generate(), name)


def test_the_checkpoint_file_gives_back_every_note_as_signed(tmp_path: Path) -> None:
    file = CheckpointFile(tmp_path / "audit" / "checkpoints.txt")
    assert file.notes() == []
    assert file.latest() is None
    notes = [_key().sign(_checkpoint(size)) for size in (1, 2, 5, 8)]
    notes[2] += _signature_line(_key("witness.example/w1", seed=2).sign(_checkpoint(5)))
    for note in notes:
        file.append(note)
    assert file.notes() == notes
    assert file.latest() == notes[-1]
    assert [verify_note(n, _key().verifier_key()).size for n in file.notes()] == [1, 2, 5, 8]
    assert file.path.read_text() == "".join(note + "\n" for note in notes)


def _append_many(path: Path, first: int) -> None:
    file = CheckpointFile(path)
    for size in range(first, first + 25):
        file.append(_key().sign(_checkpoint(size)))


@pytest.mark.slow  # several processes, seconds
def test_appends_from_several_processes_never_interleave(tmp_path: Path) -> None:
    path = tmp_path / "checkpoints.txt"
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=_append_many, args=(path, 100 * i)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
    sizes = [verify_note(n, _key().verifier_key()).size for n in CheckpointFile(path).notes()]
    assert sorted(sizes) == [100 * i + j for i in range(4) for j in range(25)]


def test_a_note_that_could_not_be_read_back_is_not_appended(tmp_path: Path) -> None:
    file = CheckpointFile(tmp_path / "checkpoints.txt")
    with pytest.raises(CheckpointError):
        file.append(SPEC_NOTE)
    with pytest.raises(CheckpointError):
        file.append(_checkpoint().body())
    assert file.notes() == []


def _edit_line(number: int, change: Callable[[str], str | None]) -> Callable[[str], str]:
    """A corruption of line `number`: `change` gives its new text, or None to delete it."""

    def corrupt(text: str) -> str:
        lines = text.split("\n")
        new = change(lines[number - 1])
        lines[number - 1 : number] = [] if new is None else [new]
        return "\n".join(lines)

    return corrupt


# Three notes of six lines each: body on lines 1-3, blank, signature on line 5, blank.
@pytest.mark.parametrize(
    ("corrupt", "line"),
    [
        pytest.param(_edit_line(8, lambda _: "02"), 8, id="a size with a leading zero"),
        pytest.param(_edit_line(9, lambda _: "not base64"), 9, id="a root that is not base64"),
        pytest.param(_edit_line(8, lambda _: "\udcff"), 8, id="a byte that is not UTF-8"),
        pytest.param(_edit_line(11, lambda s: s.replace("\u2014", "-")), 11, id="no em dash"),
        pytest.param(_edit_line(11, lambda _: ""), 11, id="a signature blanked"),
        pytest.param(_edit_line(6, lambda _: None), 6, id="no blank line after a note"),
        pytest.param(lambda t: t + "\n", 18, id="a blank line too many at the end"),
        pytest.param(lambda t: t[:-1], 17, id="the last append cut short after its signature"),
        pytest.param(lambda t: t[:-30], 17, id="the last append cut short in its signature"),
    ],
)
def test_a_corrupt_checkpoint_file_is_refused_naming_the_line(
    tmp_path: Path, corrupt: Callable[[str], str], line: int
) -> None:
    file = CheckpointFile(tmp_path / "checkpoints.txt")
    for size in (1, 2, 3):
        file.append(_key().sign(_checkpoint(size)))
    assert len(file.path.read_text().split("\n")) == 19
    file.path.write_bytes(corrupt(file.path.read_text()).encode("utf-8", "surrogateescape"))
    with pytest.raises(
        CheckpointError, match=f"checkpoints.txt (ends at )?line {line}\\b"
    ) as refused:
        file.notes()
    assert refused.value.line == line


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (f"{ORIGIN}\n03\n{base64.b64encode(bytes(32)).decode()}\n", "line 2 \\(tree size\\)"),
        (f"{ORIGIN}\n-3\n{base64.b64encode(bytes(32)).decode()}\n", "line 2 \\(tree size\\)"),
        (f"{ORIGIN}\n+3\n{base64.b64encode(bytes(32)).decode()}\n", "line 2 \\(tree size\\)"),
        (f"{ORIGIN}\n 3\n{base64.b64encode(bytes(32)).decode()}\n", "line 2 \\(tree size\\)"),
        (f"{ORIGIN}\n1_0\n{base64.b64encode(bytes(32)).decode()}\n", "line 2 \\(tree size\\)"),
        (f"{ORIGIN}\n\u0663\n{base64.b64encode(bytes(32)).decode()}\n", "line 2 \\(tree size\\)"),
        (f"{ORIGIN}\n{2**64}\n{base64.b64encode(bytes(32)).decode()}\n", "line 2 \\(tree size\\)"),
        (f"{ORIGIN}\n3\nnot base64!\n", "line 3 \\(root hash\\) is not base64"),
        (f"{ORIGIN}\n3\n{base64.b64encode(bytes(32)).decode().rstrip('=')}\n", "not base64"),
        (f"{ORIGIN}\n3\n{base64.b64encode(bytes(32)).decode()[:-2]}B=\n", "not canonical"),
        (f"{ORIGIN}\n3\n{base64.b64encode(bytes(31)).decode()}\n", "31 bytes, not 32"),
        (f"{ORIGIN}\n3\n{base64.b64encode(bytes(33)).decode()}\n", "33 bytes, not 32"),
        (f"{ORIGIN}\n3\n{base64.b64encode(bytes(32)).decode()}", "line 3 does not end"),
        (f"\n3\n{base64.b64encode(bytes(32)).decode()}\n", "line 1 is empty"),
        (f"{ORIGIN}\n3\n{base64.b64encode(bytes(32)).decode()}\n\nextension\n", "line 4 is empty"),
        (f"{ORIGIN}\n3\n", "has 2 lines"),
        (f"{ORIGIN}\t\n3\n{base64.b64encode(bytes(32)).decode()}\n", "control character"),
    ],
)
def test_checkpoint_text_is_parsed_strictly(text: str, reason: str) -> None:
    with pytest.raises(CheckpointError, match=reason):
        Checkpoint.parse(text)


def test_extension_lines_are_accepted_and_ignored() -> None:
    checkpoint = _checkpoint()
    assert Checkpoint.parse(checkpoint.body() + "extension one\nanother\n") == checkpoint


@pytest.mark.parametrize(
    ("origin", "size", "root"),
    [
        ("", 0, bytes(32)),
        ("a\nb", 0, bytes(32)),
        ("o", -1, bytes(32)),
        ("o", 2**64, bytes(32)),
        ("o", 0, bytes(31)),
    ],
)
def test_a_checkpoint_that_could_not_be_written_is_refused(
    origin: str, size: int, root: bytes
) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint(origin, size, root)
