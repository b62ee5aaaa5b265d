"""The append-only file of signed checkpoints: notes one after another, each followed by a
blank line, appended under a lock and synced, read back exactly as signed."""

import fcntl
import os
from pathlib import Path

from hub.audit.checkpoint import Checkpoint, CheckpointError
from hub.audit.durable import fsync_folder
from hub.audit.signed_note import split_note


class CheckpointFile:
    """Signed notes, one after another, each followed by a blank line; append only."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, note: str) -> None:
        """Add `note` (a signed checkpoint) in one locked, synced write."""
        text, _ = split_note(note)
        Checkpoint.parse(text)  # a body with blank lines could not be read back
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        with open(self.path, "ab") as file:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX)
            file.write((note + "\n").encode())
            file.flush()
            os.fsync(file.fileno())
        if created:
            fsync_folder(self.path.parent)

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
                text, _ = split_note(note)
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
