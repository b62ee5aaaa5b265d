"""Signed checkpoints of the ledger's Merkle tree: C2SP tlog-checkpoint bodies, signed as C2SP
signed notes with Ed25519, and the append-only file that keeps them.

A checkpoint body is three lines, origin, tree size in decimal and base64 root hash (any further
lines are extensions, accepted and ignored); the note adds a blank line and one line per signer,
`— <name> base64(key ID || signature)`, with key ID = SHA-256(name || 0x0A || 0x01 || public
key)[:4]. Auditors are given the verifier key `<name>+<hex key ID>+base64(0x01 || public key)`.

    key = SigningKey.load_or_create(Path("hub-data/keys/ledger.pem"), "hub.example/ledger")
    note = key.sign(Checkpoint("hub.example/ledger", len(leaves), root_of(leaves)))
    CheckpointFile(Path("hub-data/checkpoints.txt")).append(note)
    checkpoint = verify_note(note, key.verifier_key())  # or CheckpointError

Follows c2sp.org/signed-note and c2sp.org/tlog-checkpoint; a line signed by another key is
ignored, as the spec says, so witnesses may add their cosignatures to the same note.
"""

import base64
import binascii
import contextlib
import fcntl
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from schemas.errors import HubError

ED25519 = b"\x01"  # signed-note's signature type byte for Ed25519
DASH = "— "  # U+2014 and a space open every signature line
ROOT_SIZE = 32
MAX_SIZE = 2**64 - 1  # RFC 9162's tree_size is a uint64
MAX_SIGNATURES = 64  # the spec asks verifiers for a limit of at least 16
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")


class CheckpointError(HubError):
    """A checkpoint, note, key or file refused: which line (also as `line`), which check."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def _b64decode(text: str, what: str, line: int | None = None) -> bytes:
    """Standard base64, canonical only, so that one text means one byte string."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError(f"{what} is not base64: {text!r}", line) from None
    if base64.b64encode(raw).decode() != text:
        raise CheckpointError(f"{what} is not canonical base64: {text!r}", line)
    return raw


def _check_text(text: str, what: str) -> None:
    """signed-note: valid UTF-8 with no control characters other than newline."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise CheckpointError(f"{what} is not valid UTF-8") from None
    for number, line in enumerate(text.split("\n"), 1):
        bad = next((c for c in line if c < " "), None)
        if bad is not None:
            raise CheckpointError(f"{what} line {number} holds control character {bad!r}", number)


def _check_name(name: str, what: str, line: int | None = None) -> None:
    if not name or "+" in name or any(c.isspace() or c < " " for c in name):
        raise CheckpointError(f"{what} {name!r} must be non-empty, without spaces or '+'", line)


def _key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's `origin`, its `size` in leaves and its 32-byte `root` hash."""

    origin: str
    size: int
    root: bytes

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise CheckpointError(f"origin {self.origin!r} must be one non-empty line")
        _check_text(self.origin, "origin")
        if not 0 <= self.size <= MAX_SIZE:
            raise CheckpointError(f"tree size {self.size} is not between 0 and 2^64 - 1")
        if len(self.root) != ROOT_SIZE:
            raise CheckpointError(f"root hash is {len(self.root)} bytes, not {ROOT_SIZE}")

    def body(self) -> str:
        """The note text: origin, size and base64 root, each line ending in a newline."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> "Checkpoint":
        """The checkpoint in a note text (no signatures); extension lines are ignored."""
        if not text.endswith("\n"):
            last = text.count("\n") + 1
            raise CheckpointError(f"checkpoint line {last} does not end with a newline", last)
        _check_text(text, "checkpoint")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError(f"checkpoint has {len(lines)} lines; it needs origin, size, root")
        empty = next((n for n, line in enumerate(lines, 1) if not line), None)
        if empty is not None:
            raise CheckpointError(f"checkpoint line {empty} is empty; no line may be", empty)
        origin, size, root = lines[:3]
        if not _DECIMAL.fullmatch(size) or int(size) > MAX_SIZE:
            raise CheckpointError(
                f"checkpoint line 2 (tree size) {size!r} is not a decimal from 0 to 2^64 - 1"
                " without sign or leading zeros",
                2,
            )
        return cls(origin, int(size), _b64decode(root, "checkpoint line 3 (root hash)", 3))


def _split_note(note: str) -> tuple[str, list[tuple[int, str, bytes]]]:
    """A signed note's text and its signatures as (note line, key name, key ID || signature)."""
    _check_text(note, "note")
    if not note.endswith("\n"):
        raise CheckpointError("note must end with a newline")
    blank = note.rfind("\n\n")
    if blank < 0:
        raise CheckpointError("note has no blank line between its text and its signatures")
    text, lines = note[: blank + 1], note[blank + 2 : -1].split("\n")
    first = text.count("\n") + 2  # the note line number of the first signature line
    if lines == [""]:
        raise CheckpointError(f"note line {first - 1} is blank and no signature follows", first - 1)
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError(f"note has {len(lines)} signatures; at most {MAX_SIGNATURES}")
    signatures = []
    for number, line in enumerate(lines, first):
        name, space, encoded = line.removeprefix(DASH).partition(" ")
        if not line.startswith(DASH) or not space:
            raise CheckpointError(f"note line {number} is not '— <name> <base64>'", number)
        _check_name(name, f"note line {number}: key name", number)
        raw = _b64decode(encoded, f"note line {number}: signature", number)
        if len(raw) < 5:
            raise CheckpointError(f"note line {number}: signature of {len(raw)} bytes", number)
        signatures.append((number, name, raw))
    return text, signatures


def _parse_verifier_key(vkey: str) -> tuple[str, bytes, Ed25519PublicKey]:
    name, _, rest = vkey.partition("+")
    hex_id, _, encoded = rest.partition("+")  # the base64 may itself hold '+'
    _check_name(name, "verifier key name")
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise CheckpointError(f"verifier key ID {hex_id!r} is not 8 lowercase hex digits")
    raw = _b64decode(encoded, "verifier key")
    if raw[:1] != ED25519:
        raise CheckpointError(f"verifier key type {raw[:1].hex() or 'none'} is not Ed25519 (01)")
    if len(raw) != 33:
        raise CheckpointError(f"verifier key holds {len(raw) - 1} key bytes, not 32")
    key_id = bytes.fromhex(hex_id)
    if _key_id(name, raw[1:]) != key_id:
        raise CheckpointError(f"verifier key ID {hex_id} is not the hash of its name and key")
    try:
        return name, key_id, Ed25519PublicKey.from_public_bytes(raw[1:])
    except ValueError:
        raise CheckpointError("verifier key is not a valid Ed25519 public key") from None


def verify_note_text(note: str, verifier_key: str) -> str:
    """The text of `note` once a signature by `verifier_key` verifies, else CheckpointError."""
    name, key_id, public = _parse_verifier_key(verifier_key)
    text, signatures = _split_note(note)
    verified = False
    for number, signer, raw in signatures:
        if signer != name or raw[:4] != key_id:
            continue  # another key's signature: the spec says to ignore it
        try:
            public.verify(raw[4:], text.encode())
        except InvalidSignature:
            raise CheckpointError(
                f"note line {number}: the signature by {name} ({key_id.hex()}) does not verify;"
                " the note was changed after signing",
                number,
            ) from None
        verified = True
    if not verified:
        raise CheckpointError(f"note has no signature by {name} with key ID {key_id.hex()}")
    return text


def verify_note(note: str, verifier_key: str) -> Checkpoint:
    """The checkpoint in `note`, once a signature by `verifier_key` verifies."""
    return Checkpoint.parse(verify_note_text(note, verifier_key))


class SigningKey:
    """An Ed25519 key that signs checkpoints as signer `name`."""

    def __init__(self, private: Ed25519PrivateKey, name: str) -> None:
        _check_name(name, "key name")
        self.name, self._private = name, private
        self._public = private.public_key().public_bytes_raw()
        self.key_id = _key_id(name, self._public)

    @classmethod
    def load_or_create(cls, path: Path, name: str) -> "SigningKey":
        """The PKCS8 PEM key at `path`, made (mode 0o600, parent folders too) when absent;
        a key file that others may read is refused, as ssh does."""
        if not path.exists():
            _create_key(path)
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise CheckpointError(f"{path} can be read by others (mode {mode:o}): chmod 600 it")
        try:
            private = load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as error:
            raise CheckpointError(f"{path} is no unencrypted PEM private key: {error}") from None
        if not isinstance(private, Ed25519PrivateKey):
            raise CheckpointError(f"{path} holds a {type(private).__name__}, not an Ed25519 key")
        return cls(private, name)

    def verifier_key(self) -> str:
        """`<name>+<hex key ID>+base64(0x01 || public key)`, for auditors to verify with."""
        encoded = base64.b64encode(ED25519 + self._public).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def sign(self, checkpoint: Checkpoint) -> str:
        """The signed note: the checkpoint's body, a blank line and this key's signature line."""
        text = checkpoint.body()
        signature = base64.b64encode(self.key_id + self._private.sign(text.encode())).decode()
        return f"{text}\n{DASH}{self.name} {signature}\n"


def _create_key(path: Path) -> None:
    """A new key at `path`, written whole under another name and then linked into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # a link never replaces: one racer wins
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    """Make a new name in `folder` survive a crash."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class CheckpointFile:
    """Signed notes, one after another, each followed by a blank line; append only."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, note: str) -> None:
        """Add `note` (a signed checkpoint) in one locked, synced write."""
        text, _ = _split_note(note)
        Checkpoint.parse(text)  # a body with blank lines could not be read back
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        with open(self.path, "ab") as file:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX)
            file.write((note + "\n").encode())
            file.flush()
            os.fsync(file.fileno())
        if created:
            _fsync_folder(self.path.parent)

    def notes(self) -> list[str]:
        """Every note in the file, in order, exactly as signed."""
        try:
            with open(self.path, "rb") as file:
                fcntl.flock(file.fileno(), fcntl.LOCK_SH)  # no half-written append
                data = file.read()
        except FileNotFoundError:
            return []
        try:
            content = data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            raise CheckpointError(f"{self.path} line {line} is not UTF-8", line) from None
        if content and not content.endswith("\n\n"):
            last = content.count("\n") + (not content.endswith("\n"))
            raise CheckpointError(
                f"{self.path} ends at line {last} with no blank line: an append was cut short", last
            )
        # Checkpoints hold no blank lines, so every other blank line ends a note.
        parts = content[:-2].split("\n\n") if content else []
        notes, line = [], 1  # the file line where the next note starts
        for i in range(0, len(parts), 2):
            note = "\n\n".join(parts[i : i + 2]) + "\n"
            try:
                text, _ = _split_note(note)
                Checkpoint.parse(text)
            except CheckpointError as error:
                at = line + (error.line or 1) - 1
                raise CheckpointError(
                    f"{self.path} line {at}, in the note from line {line}: {error}", at
                ) from None
            notes.append(note)
            line += note.count("\n") + 1
        return notes

    def latest(self) -> str | None:
        """The last note in the file, or None when there is none."""
        notes = self.notes()
        return notes[-1] if notes else None
