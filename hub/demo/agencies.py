"""The demo's agencies' own folder: what the synthetic agencies hold and the hub never does.

    agencies = AgenciesFolder(Path("demo-agencies"))
    agencies.extract("police-north")     # demo-agencies/extracts/police-north.csv
    agencies.place_key                   # demo-agencies/place-key.toml

The extracts (fake names and NHS numbers, as each agency holds them), their mappings, the ground
truth and the place key (the agencies' shared pseudonym key) stay out of the hub's data folder:
with the place key beside the hub's own key anyone could re-identify everyone. The hub gets a
copy of the place file alone.
"""

import shutil
from dataclasses import dataclass
from pathlib import Path

from hub.settings import DataFolder
from schemas.errors import HubError

DEMO_AGENCIES = Path("demo-agencies")
"""Where `hub demo` writes the agencies' material unless told (`--agencies-dir`)."""
PLACE_KEY = "place-key.toml"
_SYNTHESISED = ("extracts", "mappings", "truth")


@dataclass(frozen=True)
class AgenciesFolder:
    """The files of the synthetic agencies' folder, laid out as `synthesise` writes them."""

    root: Path

    @property
    def place(self) -> Path:
        """The agencies' copy of the place file."""
        return self.root / "place.toml"

    @property
    def place_key(self) -> Path:
        """The agencies' shared pseudonym key, made on the demo's first run and kept."""
        return self.root / PLACE_KEY

    @property
    def truth(self) -> Path:
        """The ground truth behind the extracts (`people.csv`, `events.jsonl`)."""
        return self.root / "truth"

    def extract(self, agency: str) -> Path:
        return self.root / "extracts" / f"{agency}.csv"

    def mapping(self, agency: str) -> Path:
        return self.root / "mappings" / f"{agency}.toml"


def check_apart(agencies: AgenciesFolder, folder: DataFolder) -> None:
    """Refuse an agencies' folder inside the hub's data or keys folder, or holding either."""
    mine = agencies.root.resolve()
    for hubs in dict.fromkeys(p for p in (folder.root, folder.keys) if p is not None):
        theirs = hubs.resolve()
        if mine.is_relative_to(theirs) or theirs.is_relative_to(mine):
            raise HubError(
                f"--agencies-dir {agencies.root}: the agencies' folder and the hub's folder "
                f"{hubs} must be apart (neither inside the other), so the hub never holds the "
                "agencies' extracts or place key; choose another --agencies-dir"
            )


def hand_back(folder: DataFolder, agencies: AgenciesFolder) -> None:
    """Take an earlier demo's agencies' material out of the hub's folders: its place key moves
    to the agencies' folder (kept, so the people already stored keep their pseudonyms), and the
    extracts, mappings and truth it synthesised there go (the seed writes them again)."""
    for old in dict.fromkeys((folder.root / PLACE_KEY, (folder.keys or folder.root) / PLACE_KEY)):
        if not old.exists():
            continue
        if not agencies.place_key.exists():
            agencies.root.mkdir(parents=True, exist_ok=True)
            shutil.move(old, agencies.place_key)
        elif old.read_bytes() == agencies.place_key.read_bytes():
            old.unlink()
        else:
            raise HubError(
                f"{old}: an earlier demo's place key, which the hub must not hold, differs from "
                f"{agencies.place_key}: move the one the agencies keep to {agencies.place_key}, "
                f"delete {old} and run again"
            )
    for name in _SYNTHESISED:
        if (folder.place_dir / name).exists():
            shutil.rmtree(folder.place_dir / name)
