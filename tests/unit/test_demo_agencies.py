"""The demo's agencies' folder is kept apart from the hub's, and an earlier demo's agencies'
material in the hub's data folder is handed back to the agencies."""

from pathlib import Path

import pytest

from hub.demo.agencies import AgenciesFolder, check_apart, hand_back
from hub.settings import DataFolder
from schemas.errors import HubError

KEY = b'version = 1\nkey = "' + b"ab" * 32 + b'"\n'


@pytest.mark.parametrize("inside", ["hub-data/agencies", "hub-data", "keys/agencies", "."])
def test_an_agencies_folder_inside_the_hubs_folders_or_holding_them_is_refused(
    tmp_path: Path, inside: str
) -> None:
    folder = DataFolder(tmp_path / "hub-data", keys=tmp_path / "keys")
    with pytest.raises(HubError, match="must be apart"):
        check_apart(AgenciesFolder(tmp_path / inside), folder)


def test_an_agencies_folder_beside_the_data_folder_is_taken(tmp_path: Path) -> None:
    check_apart(AgenciesFolder(tmp_path / "demo-agencies"), DataFolder(tmp_path / "hub-data"))


def test_an_earlier_demos_place_key_moves_to_the_agencies_and_its_extracts_go(
    tmp_path: Path,
) -> None:
    folder, agencies = DataFolder(tmp_path / "hub-data"), AgenciesFolder(tmp_path / "agencies")
    for name in ("extracts", "mappings", "truth"):
        (folder.place_dir / name).mkdir(parents=True)
        (folder.place_dir / name / "a-file").write_text("an agency's", encoding="utf-8")
    folder.place.write_text("the place", encoding="utf-8")
    (folder.root / "place-key.toml").write_bytes(KEY)
    hand_back(folder, agencies)
    assert agencies.place_key.read_bytes() == KEY  # kept: the stored people keep their pseudonyms
    assert [p.name for p in folder.root.rglob("*")] == ["place", "place.toml"]


def test_an_earlier_place_key_the_agencies_also_hold_is_deleted_from_the_hubs_keys(
    tmp_path: Path,
) -> None:
    folder = DataFolder(tmp_path / "hub-data", keys=tmp_path / "keys")
    agencies = AgenciesFolder(tmp_path / "agencies")
    for where in (folder.keys, agencies.root):
        assert where is not None
        where.mkdir()
    (tmp_path / "keys" / "place-key.toml").write_bytes(KEY)
    agencies.place_key.write_bytes(KEY)
    hand_back(folder, agencies)
    assert not (tmp_path / "keys" / "place-key.toml").exists()
    assert agencies.place_key.read_bytes() == KEY


def test_two_different_place_keys_are_refused_naming_both(tmp_path: Path) -> None:
    folder, agencies = DataFolder(tmp_path / "hub-data"), AgenciesFolder(tmp_path / "agencies")
    folder.root.mkdir()
    agencies.root.mkdir()
    (folder.root / "place-key.toml").write_bytes(KEY)
    agencies.place_key.write_bytes(KEY.replace(b"ab", b"cd"))
    with pytest.raises(HubError, match="differs from") as refused:
        hand_back(folder, agencies)
    assert str(agencies.place_key) in str(refused.value)
    assert (folder.root / "place-key.toml").exists()  # nothing deleted
