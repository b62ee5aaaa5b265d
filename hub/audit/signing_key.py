"""The Ed25519 key that signs checkpoints as C2SP signed notes, and its PEM file (mode 0o600)."""

import base64
import contextlib
import os
import tempfile
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from hub.audit.checkpoint import Checkpoint, CheckpointError
from hub.audit.durable import fsync_folder
from hub.audit.signed_note import DASH, ED25519, check_name, key_id_of


class SigningKey:
    """An Ed25519 key that signs checkpoints as signer `name`."""

    def __init__(self, private: Ed25519PrivateKey, name: str) -> None:
        check_name(name, "key name")
        self.name, self._private = name, private
        self._public = private.public_key().public_bytes_raw()
        self.key_id = key_id_of(name, self._public)

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
    fsync_folder(path.parent)
