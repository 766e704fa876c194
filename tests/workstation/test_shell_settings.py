"""Local settings, profiles and the credential store."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from workstation.credentials import CredentialStore, EncryptedFileStore
from workstation.hotkeys import conflicts, resolve
from workstation.settings import EMBEDDED_PROFILE, Profile, Settings


def test_settings_round_trip_and_always_offer_the_embedded_exchange(tmp_path: Path) -> None:
    settings = Settings.load(tmp_path)
    assert settings.profiles[0].name == EMBEDDED_PROFILE
    assert settings.theme == "dark"  # dark by default
    settings.upsert_profile(Profile("Broker", url="https://broker.example", username="ann"))
    settings.remove_profile(EMBEDDED_PROFILE)  # refused: it is always there
    settings.theme = "light"
    settings.workspaces["Mine"] = {"version": 1, "state": "AAAA"}
    settings.save()
    loaded = Settings.load(tmp_path)
    assert [p.name for p in loaded.profiles] == [EMBEDDED_PROFILE, "Broker"]
    assert loaded.profile("Broker") == Profile("Broker", "remote", "https://broker.example", "ann")
    assert loaded.theme == "light"
    assert loaded.workspaces["Mine"]["state"] == "AAAA"


def test_a_damaged_settings_file_starts_from_defaults(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text("{not json")
    assert Settings.load(tmp_path).theme == "dark"
    assert (tmp_path / "settings.json.damaged").exists()


def test_without_a_keyring_secrets_go_to_an_encrypted_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKSTATION_CREDENTIALS", "file")
    store = CredentialStore(tmp_path)
    assert store.kind == "file"
    assert "encrypted file" in store.description and "not against" in store.description
    store.set("Broker", "ann", "password", "hunter2-correct-horse")
    assert CredentialStore(tmp_path).get("Broker", "ann", "password") == "hunter2-correct-horse"
    raw = (tmp_path / "credentials.enc").read_bytes()
    assert b"hunter2" not in raw
    key_mode = stat.S_IMODE((tmp_path / "credentials.key").stat().st_mode)
    assert key_mode == 0o600
    assert stat.S_IMODE((tmp_path / "credentials.enc").stat().st_mode) == 0o600
    store.forget("Broker", "ann")
    assert CredentialStore(tmp_path).get("Broker", "ann", "password") is None


def test_a_lost_key_file_loses_the_secrets_but_not_the_app(tmp_path: Path) -> None:
    EncryptedFileStore(tmp_path).set("a", "secret")
    (tmp_path / "credentials.key").unlink()
    assert EncryptedFileStore(tmp_path).get("a") is None


def test_hotkey_defaults_and_conflicts() -> None:
    keys = resolve({})
    assert keys["buy"] == "F1" and keys["sell"] == "F2" and keys["command_palette"] == "Ctrl+K"
    assert conflicts(keys) == {}
    assert conflicts(resolve({"sell": "F1"})) == {"F1": ["buy", "sell"]}
