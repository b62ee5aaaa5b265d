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

This module holds the checkpoint body; the signed note is read and verified in `signed_note`,
the key that signs it is `signing_key`'s, and the file that keeps them is `checkpoint_file`'s.

Follows c2sp.org/signed-note and c2sp.org/tlog-checkpoint.
"""

import base64
import binascii
import re
from dataclasses import dataclass

from schemas.errors import HubError

ROOT_SIZE = 32
MAX_SIZE = 2**64 - 1  # RFC 9162's tree_size is a uint64
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")


class CheckpointError(HubError):
    """A checkpoint, note, key or file refused: which line (also as `line`), which check."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def b64decode_canonical(text: str, what: str, line: int | None = None) -> bytes:
    """Standard base64, canonical only, so that one text means one byte string."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError(f"{what} is not base64: {text!r}", line) from None
    if base64.b64encode(raw).decode() != text:
        raise CheckpointError(f"{what} is not canonical base64: {text!r}", line)
    return raw


def check_text(text: str, what: str) -> None:
    """signed-note: valid UTF-8 with no control characters other than newline."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise CheckpointError(f"{what} is not valid UTF-8") from None
    for number, line in enumerate(text.split("\n"), 1):
        bad = next((c for c in line if c < " "), None)
        if bad is not None:
            raise CheckpointError(f"{what} line {number} holds control character {bad!r}", number)


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's `origin`, its `size` in leaves and its 32-byte `root` hash."""

    origin: str
    size: int
    root: bytes

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise CheckpointError(f"origin {self.origin!r} must be one non-empty line")
        check_text(self.origin, "origin")
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
        check_text(text, "checkpoint")
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
        return cls(origin, int(size), b64decode_canonical(root, "checkpoint line 3 (root hash)", 3))
