"""C2SP signed notes: a note's text and its signature lines split apart, a verifier key read,
and a note's signature by that key verified (c2sp.org/signed-note).

A line signed by another key is ignored, as the spec says, so witnesses may add their
cosignatures to the same note.
"""

import hashlib
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.audit.checkpoint import Checkpoint, CheckpointError, b64decode_canonical, check_text

ED25519 = b"\x01"  # signed-note's signature type byte for Ed25519
DASH = "— "  # U+2014 and a space open every signature line
MAX_SIGNATURES = 64  # the spec asks verifiers for a limit of at least 16


def check_name(name: str, what: str, line: int | None = None) -> None:
    if not name or "+" in name or any(c.isspace() or c < " " for c in name):
        raise CheckpointError(f"{what} {name!r} must be non-empty, without spaces or '+'", line)


def key_id_of(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


def split_note(note: str) -> tuple[str, list[tuple[int, str, bytes]]]:
    """A signed note's text and its signatures as (note line, key name, key ID || signature)."""
    check_text(note, "note")
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
        check_name(name, f"note line {number}: key name", number)
        raw = b64decode_canonical(encoded, f"note line {number}: signature", number)
        if len(raw) < 5:
            raise CheckpointError(f"note line {number}: signature of {len(raw)} bytes", number)
        signatures.append((number, name, raw))
    return text, signatures


def _parse_verifier_key(vkey: str) -> tuple[str, bytes, Ed25519PublicKey]:
    name, _, rest = vkey.partition("+")
    hex_id, _, encoded = rest.partition("+")  # the base64 may itself hold '+'
    check_name(name, "verifier key name")
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise CheckpointError(f"verifier key ID {hex_id!r} is not 8 lowercase hex digits")
    raw = b64decode_canonical(encoded, "verifier key")
    if raw[:1] != ED25519:
        raise CheckpointError(f"verifier key type {raw[:1].hex() or 'none'} is not Ed25519 (01)")
    if len(raw) != 33:
        raise CheckpointError(f"verifier key holds {len(raw) - 1} key bytes, not 32")
    key_id = bytes.fromhex(hex_id)
    if key_id_of(name, raw[1:]) != key_id:
        raise CheckpointError(f"verifier key ID {hex_id} is not the hash of its name and key")
    try:
        return name, key_id, Ed25519PublicKey.from_public_bytes(raw[1:])
    except ValueError:
        raise CheckpointError("verifier key is not a valid Ed25519 public key") from None


def verify_note_text(note: str, verifier_key: str) -> str:
    """The text of `note` once a signature by `verifier_key` verifies, else CheckpointError."""
    name, key_id, public = _parse_verifier_key(verifier_key)
    text, signatures = split_note(note)
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
